"""Money movements at the local Stripe, counted per order (never per idempotency key: localstripe protects
nothing), and its test cards. ``use`` names the session's local Stripe; the integration suite's ``aws`` fixture
calls it.
"""

from __future__ import annotations

from tests.support.gateway import StripeStack

_GATEWAY: list[StripeStack] = []


def use(stack: StripeStack) -> None:
    """The local Stripe the functions below read from."""
    _GATEWAY[:] = [stack]


def stripe_stack() -> StripeStack:
    return _GATEWAY[0]


def card(name: str) -> str:
    """A payment-method token for a Stripe test card (``visa``, ``declined``, ``three_d_secure`` or a number)."""
    return stripe_stack().stripe.payment_method(name)


def charges(order_id: str) -> list[int]:
    """Amounts charged for the order at the gateway (its succeeded PaymentIntents, found by order id)."""
    return [int(i.amount) for i in stripe_stack().stripe.charges(order_id)]


def refunds(order_id: str) -> list[int]:
    """Amounts refunded for the order at the gateway (every refund on any of its charges)."""
    return sorted(int(r.amount) for r in stripe_stack().stripe.refunds(order_id))
