"""The payment gateway port.

The service depends on this protocol only, so a real adapter (Stripe, Adyen) can replace the simulated one
without touching the domain or the handlers. The contract mirrors Stripe's: every call carries an idempotency
key naming the business action; the same key with the same parameters returns the first result, the same key
with different parameters is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from novamart_payments.domain import Money


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """A final answer from the gateway: approved with a transaction id, or declined with a code."""

    approved: bool
    transaction_id: str | None
    code: str | None = None
    reason: str | None = None
    # When the gateway decided (Stripe's ``created``). A replay under the same key returns the same instant, so
    # an outcome event built from a replayed result is identical to the first one.
    processed_at: str = ""


class TransientGatewayError(Exception):
    """The gateway could not answer now (network, 5xx, rate limit); the same call may succeed later."""


class IdempotencyKeyReused(Exception):
    """The key was already used with other parameters: a programming or data error, never retried."""


class PaymentGateway(Protocol):
    def charge(self, *, idempotency_key: str, amount: Money, token: str, customer_id: str) -> GatewayResult: ...

    def refund(self, *, idempotency_key: str, transaction_id: str, amount: Money) -> GatewayResult: ...
