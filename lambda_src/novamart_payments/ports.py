"""The ports: what the application needs from the world, as ``typing.Protocol``s, with the values that cross them.

The service (``payment_flow``, ``refund_flow``, ``settlement``, ``radar``, ``reconciliation``) depends on these
only; the adapters (the DynamoDB repository, the EventBridge publisher, the Stripe gateway and its webhooks)
implement or produce them, and the composition root (``composition.py``) plugs the concrete ones in. So a decision
of the service can be tested against in-memory fakes, without an AWS SDK or an emulator. The gateway's port,
``PaymentGateway``, lives beside its request and result types in ``gateway/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from novamart_payments.domain import Dispute, PaymentRecord, PaymentTrigger, RefundRecord, Status, TriggerMeta
from novamart_payments.risk import RiskDecision

R = TypeVar("R", PaymentRecord, RefundRecord)


@dataclass(frozen=True, slots=True)
class Lease:
    """A refund's gateway lease, taken. ``nothing_sent``: the refund's last attempt was refused before it did
    anything (and every attempt before it is known to have done nothing), so no refund exists at the gateway."""

    nothing_sent: bool


@dataclass(frozen=True, slots=True)
class WriteResult(Generic[R]):
    """Outcome of a conditional write: ``won`` tells whether this caller's write took effect; ``current`` is the
    item after the write, or as it stood when the condition failed (None if it does not exist)."""

    won: bool
    current: R | None


class PaymentRepository(Protocol):
    """The payments and refunds, where every status change is a conditional write: the store, not the process,
    decides which of several concurrent deliveries wins, and a lost condition hands back the record as it now
    stands (the DynamoDB adapter, ``repository.Repository``, documents each write)."""

    # --- payments ----------------------------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> PaymentRecord | None: ...

    def claim_payment(self, payment_id: str, trigger: PaymentTrigger, now: str) -> WriteResult[PaymentRecord]: ...

    def block_payment(
        self, payment_id: str, order_id: str, meta: TriggerMeta, now: str
    ) -> WriteResult[PaymentRecord]: ...

    def attach_blocked_payment(
        self, payment_id: str, trigger: PaymentTrigger, now: str
    ) -> WriteResult[PaymentRecord]: ...

    def record_risk_decision(self, payment_id: str, decision: RiskDecision, now: str) -> WriteResult[PaymentRecord]: ...

    def store_intent(self, payment_id: str, intent_id: str, now: str) -> WriteResult[PaymentRecord]: ...

    def abandon_without_intent(self, payment_id: str, now: str) -> bool: ...

    def require_action(self, waiting: PaymentRecord, now: str) -> WriteResult[PaymentRecord]: ...

    def finish_payment(self, final: PaymentRecord, now: str) -> WriteResult[PaymentRecord]: ...

    def mark_payment_published(self, payment_id: str) -> None: ...

    def note_dispute(self, payment_id: str, dispute_id: str) -> bool: ...

    def note_review(self, payment_id: str, review_id: str, state: str) -> None: ...

    def unfinished_payments(self, status: Status, opened_before: str, limit: int) -> list[PaymentRecord]: ...

    def oldest_unfinished_since(self, status: Status, *, refunds: bool = False) -> str | None: ...

    # --- refunds -----------------------------------------------------------------------------------------

    def get_refund(self, refund_id: str) -> RefundRecord | None: ...

    def get_payment_and_refund(
        self, payment_id: str, refund_id: str
    ) -> tuple[PaymentRecord | None, RefundRecord | None]: ...

    def reserve_refund(
        self, payment: PaymentRecord, refund: RefundRecord, now: str, lease_until: str, lease_owner: str
    ) -> bool: ...

    def take_refund_lease(self, refund_id: str, now: str, lease_until: str, lease_owner: str) -> Lease | None: ...

    def release_refund_lease(self, refund_id: str, lease_owner: str, *, nothing_sent: bool) -> bool: ...

    def note_refund_pending(self, refund_id: str, transaction_id: str | None, now: str) -> bool: ...

    def approve_refund(
        self, refund: RefundRecord, transaction_id: str | None, processed_at: str
    ) -> WriteResult[RefundRecord]: ...

    def finish_refund(self, final: RefundRecord, now: str) -> WriteResult[RefundRecord]: ...

    def fail_reserved_refund(self, refund: RefundRecord, code: str, reason: str, now: str) -> bool: ...

    def record_refund_failure(self, refund: RefundRecord) -> WriteResult[RefundRecord]: ...

    def mark_refund_published(self, refund_id: str) -> None: ...

    def unfinished_refunds(self, opened_before: str, limit: int) -> list[RefundRecord]: ...


class EventPublisher(Protocol):
    """Puts one outcome event (built by ``events.py``) on the bus, in every major in force, or raises: the trigger
    is then retried, so an outcome is never lost."""

    def publish(self, event: dict[str, Any]) -> None: ...


# --- notices: what the gateway's notifications (webhooks) may tell the service --------------------------------


@dataclass(frozen=True, slots=True)
class ChargeNotice:
    """Something happened to a charge attempt (succeeded, failed, canceled, needs the customer)."""

    handle: str
    order_id: str | None


@dataclass(frozen=True, slots=True)
class RefundNotice:
    """A refund the gateway accepted changed state (a pending refund settled, or failed later)."""

    transaction_id: str
    refund_id: str | None


@dataclass(frozen=True, slots=True)
class DisputeNotice:
    """The customer's bank opened a dispute on a charge."""

    handle: str
    dispute: Dispute


@dataclass(frozen=True, slots=True)
class FraudWarningNotice:
    """The card network warned of fraud on a charge (Stripe Radar's early fraud warning), before any dispute."""

    handle: str
    warning_id: str
    actionable: bool


@dataclass(frozen=True, slots=True)
class ReviewNotice:
    """Radar opened or closed a manual review of a payment; ``reason`` is Stripe's (``refunded_as_fraud``, ...)."""

    handle: str
    review_id: str
    opened: bool
    reason: str


Notice = ChargeNotice | RefundNotice | DisputeNotice | FraudWarningNotice | ReviewNotice


class NoticeBusy(Exception):
    """Another delivery is settling the same object right now: the gateway is asked to deliver this one again
    later (it then finds the object settled), rather than both publishing."""
