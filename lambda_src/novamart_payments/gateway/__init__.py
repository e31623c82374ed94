"""The payment gateway port.

The service depends on this protocol only, so the domain and the handlers never learn which gateway is behind
it (Stripe in production, the in-process simulator in fast tests).

A charge is two steps, because the gateway must not be trusted to deduplicate for us (its idempotency keys expire
after 24 hours, and the local Stripe-compatible server ignores them altogether):

1. ``begin_charge`` registers the attempt and moves no money (a Stripe PaymentIntent, unconfirmed). Only the
   delivery that claimed the order (a PENDING record written before any gateway request) opens it, and stores its
   handle on the record with a conditional write before completing it.
2. ``complete_charge`` moves the money for that one stored handle, or reports what already happened to it. A
   handle can succeed at most once at the gateway, so any number of redeliveries or concurrent deliveries that
   complete the same stored handle charge the order at most once.

A handle that lost the race to be stored is given back with ``release_charge`` (nothing was charged on it).
Refunds move money in one step; the service guards them with a lease on the refund record and asks the gateway
with ``find_refund`` whether an earlier attempt got through before it tries again, unless that attempt was
refused before it did anything (``GatewayRateLimited``: an adapter raises it only when no request of the call can
have moved money).

Some outcomes arrive later (3-D Secure, refunds that settle in days, disputes, an outage that outlived the queue's
retries). The gateway's notifications (webhooks) and the reconciliation pass never trust what a notification says:
they ask the gateway for the truth with ``charge_status`` / ``refund_status`` and settle the record from that, so
duplicate and out-of-order notifications converge on one answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from novamart_payments.domain import Money


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    # The gateway accepted the request but has not decided yet (a refund Stripe settles later): the record stays
    # PENDING and no outcome event is published until the gateway tells us (webhooks, reconciliation).
    PENDING = "pending"
    # The bank wants the customer to authenticate (3-D Secure): the payment waits for the customer, and its
    # outcome arrives later through a webhook or reconciliation.
    REQUIRES_ACTION = "requires_action"
    # The attempt exists but was never confirmed: nothing was charged and nothing will be unless it is confirmed.
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """The gateway's answer to one money movement."""

    outcome: Outcome
    transaction_id: str | None
    code: str | None = None
    reason: str | None = None
    # When the gateway decided. Read back from the gateway on a replay, so an outcome event built from a
    # replayed result is identical to the first one.
    processed_at: str = ""
    # For REQUIRES_ACTION: the kind of action the customer must take (``three_d_secure``, ``redirect``, ``other``).
    action: str | None = None
    # On a status read of a charge: the order the attempt was opened for (from the gateway's metadata), so a
    # notification that names only the gateway's objects (a dispute) finds its payment.
    order_id: str | None = None

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """Everything a gateway needs to charge one order. ``token`` is a payment-method token, never a card."""

    idempotency_key: str
    order_id: str
    payment_id: str
    customer_id: str
    correlation_id: str
    amount: Money
    token: str

    def __repr__(self) -> str:
        return f"ChargeRequest(order_id={self.order_id!r}, amount={self.amount!r}, token=<redacted>)"


@dataclass(frozen=True, slots=True)
class RefundRequest:
    idempotency_key: str
    order_id: str
    refund_id: str
    payment_handle: str
    amount: Money


class GatewayError(Exception):
    """Base of the gateway's failures that are not answers about the customer's money."""


class TransientGatewayError(GatewayError):
    """The gateway could not answer now (network, 5xx, rate limit, still processing); SQS redelivery retries."""


class GatewayRateLimited(TransientGatewayError):
    """The gateway refused the request for its rate limit (HTTP 429), or the request budget refused to send it:
    nothing was done (a 429 after another attempt of the same call that may have been carried out is reported as
    a plain ``TransientGatewayError``). Retried after a backoff
    like any transient failure, and never the reason a trigger dead-letters (see ``novamart_payments.retry``)."""


class IdempotencyKeyReused(GatewayError):
    """The key was already used with other parameters: a programming or data error. Retrying cannot help, so the
    record is not retried; it is counted and alarmed, and stays PENDING for an operator or reconciliation."""


class GatewayMisconfigured(GatewayError):
    """Our own credentials are wrong (authentication or permission refused). Never the customer's fault, so it is
    never published as ``payment.failed``: the record fails, is redelivered, and an alarm fires."""


class UnknownToGateway(GatewayError):
    """The gateway has no object with that id (Stripe's 404 ``resource_missing`` on a read). A permanent answer:
    the object will not appear on a retry, so the caller acknowledges it and counts it, never retries it (a
    signed notification about another account's or a deleted object, a refund that never reached the gateway)."""


class PaymentMethodRefused(GatewayError):
    """``begin_charge`` could not even open the attempt: the gateway does not know the payment method. A final
    answer about the customer's token, published as a decline; the order's record then holds no handle, which
    is how a redelivery knows the same answer without asking again."""

    def __init__(self, result: GatewayResult) -> None:
        super().__init__(result.reason or "payment method refused")
        self.result = result


class PaymentGateway(Protocol):
    def begin_charge(self, request: ChargeRequest) -> str: ...

    def release_charge(self, handle: str) -> None: ...

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult: ...

    def refund(self, request: RefundRequest) -> GatewayResult: ...

    def find_refund(self, request: RefundRequest) -> GatewayResult | None: ...

    def charge_status(self, handle: str) -> GatewayResult:
        """What the gateway knows of the charge attempt now (never moves money)."""
        ...

    def cancel_charge(self, handle: str) -> GatewayResult:
        """Cancel an attempt that has not taken money; answers the attempt's state afterwards (an attempt that
        succeeded meanwhile cannot be cancelled and is reported as approved)."""
        ...

    def refund_status(self, transaction_id: str) -> GatewayResult:
        """What the gateway knows of a refund it accepted (one that settles later) now."""
        ...
