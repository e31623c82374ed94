"""Each module is one consuming team's consumer test, as that team writes it in its own repository (pact-python 4):
the messages it expects from a provider, with the fields its handler reads, and a stand-in of that handler.
``tools/pacts.py write`` runs them and writes ``contracts/pacts/<consumer>-<provider>.json``.

A team adds its pact by adding a module here (or by committing the pact file its own test wrote): see
docs/events/pacts.md.
"""

from __future__ import annotations

from contracts.consumers import notifications_service, novamart_payments, orders_service

#: Every pact of the consumer tests: (consumer, provider, declare the interactions, the consumer's handler).
PACTS = (*orders_service.PACTS, *notifications_service.PACTS, *novamart_payments.PACTS)
