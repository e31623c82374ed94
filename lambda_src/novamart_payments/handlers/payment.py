"""Payment function: ``inventory.reserved`` and ``order.ready_for_payment`` take payment for an order."""

from __future__ import annotations

from novamart_payments.envelope import PAYMENT_TRIGGERS, payment_trigger
from novamart_payments.handlers._batch import make_handler

handler = make_handler(PAYMENT_TRIGGERS, lambda svc, event, _message: svc.handle_payment(payment_trigger(event)))
