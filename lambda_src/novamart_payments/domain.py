"""Pure payment and refund decisions.

Nothing here talks to AWS or the gateway: the service layer reads the current records, asks a function in this
module what to do, and carries the answer out with conditional writes. Keeping the decisions pure lets the
unit tests enumerate every state the tables can be in without an emulator.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import timedelta

from novamart_payments.failure_codes import RefundFailureCode
from novamart_payments.money import Money as Money  # the domain's value type, defined beside its currency table
from novamart_payments.risk import NO_CONTEXT, RiskContext, RiskDecision

#: How long a payment may wait for the customer's 3-D Secure before reconciliation cancels it (Stripe keeps an
#: unconfirmed authentication open for about a day). The deployed value is ``ACTION_DEADLINE_SECONDS``.
ACTION_DEADLINE = timedelta(hours=23)

# Fixed namespace so that ids derived from business keys are identical in every process and every run:
# this is what makes a redelivered trigger find the record (and the outcome event id) of its first delivery.
_NAMESPACE = uuid.UUID("6f1c2a52-3c0e-4e63-9a8e-2f4f7f0b9d11")


class Status(enum.StrEnum):
    """A record's status only moves forward: PENDING -> (REQUIRES_ACTION ->) SUCCEEDED | FAILED. Every write
    that changes it is conditional on a status before it, so a late or replayed notification can never move a
    record back."""

    PENDING = "PENDING"
    REQUIRES_ACTION = "REQUIRES_ACTION"  # payments only: waiting for the customer (3-D Secure)
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def unfinished(self) -> bool:
        return self in (Status.PENDING, Status.REQUIRES_ACTION)


@dataclass(frozen=True, slots=True)
class TriggerMeta:
    """The parts of a consumed event's metadata that decisions and published events carry forward."""

    event_id: str
    correlation_id: str
    request_id: str | None


@dataclass(frozen=True, slots=True)
class PaymentTrigger:
    order_id: str
    customer_id: str
    amount: Money
    token: str
    meta: TriggerMeta
    # Optional risk signals of the consumed event (issue 20), for the risk check and the gateway's fraud screening.
    context: RiskContext = NO_CONTEXT

    def __repr__(self) -> str:
        # The token must never reach a log line, even through an accidental repr() of the trigger.
        return f"PaymentTrigger(order_id={self.order_id!r}, amount={self.amount!r}, token=<redacted>)"


@dataclass(frozen=True, slots=True)
class RefundTrigger:
    order_id: str
    reason: str
    amount: Money | None
    meta: TriggerMeta

    @property
    def is_partial(self) -> bool:
        return self.amount is not None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payments-table item. ``published`` records that the outcome event went out, so a duplicate
    delivery can tell whether it must publish it again."""

    payment_id: str
    order_id: str
    status: Status
    customer_id: str | None
    amount: Money | None
    refunded_minor_units: int = 0
    transaction_id: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    published: bool = False
    cancelled_before_payment: bool = False
    # The gateway's handle on this order's one charge attempt (a Stripe PaymentIntent id), written with the
    # PENDING claim: every delivery completes this handle, never a new one.
    intent_id: str | None = None
    correlation_id: str = ""
    causation_id: str | None = None
    created_at: str = ""
    updated_at: str = ""
    processed_at: str | None = None  # when the outcome was decided; the outcome event's occurredAt
    # REQUIRES_ACTION: what the customer must do, and until when before the attempt is cancelled.
    action_type: str | None = None
    action_expires_at: str | None = None
    # Disputes whose payment.disputed went out.
    dispute_ids: frozenset[str] = frozenset()
    # The risk check's decision, stored on the claim before any gateway request (issue 20): every later delivery
    # of the order reads it instead of asking again.
    risk: RiskDecision | None = None
    # The gateway's fraud screening of the charge (Stripe Radar's outcome type, risk level and score).
    radar_outcome: str | None = None
    radar_risk_level: str | None = None
    radar_risk_score: int | None = None


@dataclass(frozen=True, slots=True)
class RefundRecord:
    refund_id: str
    order_id: str
    status: Status
    amount: Money | None
    payment_id: str | None = None
    customer_id: str | None = None
    reason: str = ""
    transaction_id: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    published: bool = False
    correlation_id: str = ""
    causation_id: str | None = None
    idempotency_key: str = ""
    created_at: str = ""
    updated_at: str = ""
    processed_at: str | None = None
    # The gateway's approval is recorded on the PENDING refund before its refund.succeeded goes out: from then on
    # no decline can fail it, and every delivery publishes the approval as first recorded (repository.approve_refund).
    approved: bool = False


@dataclass(frozen=True, slots=True)
class Dispute:
    """A chargeback the gateway told us about: on which charge, for how much, and the bank's stated reason."""

    dispute_id: str
    transaction_id: str
    amount: Money
    reason: str
    opened_at: str


def payment_id_for(order_id: str) -> str:
    """One order owns exactly one payment id, so the table's key uniqueness enforces one charge per order."""
    return str(uuid.uuid5(_NAMESPACE, charge_key(order_id)))


def charge_key(order_id: str) -> str:
    """The gateway idempotency key names the business action (charging this order), never the delivery."""
    return f"pay:{order_id}"


def refund_key(trigger: RefundTrigger) -> str:
    """Full refunds are keyed by the order so both refund triggers of one order make a single refund; a partial
    refund is keyed by the producer's request id (stable across redeliveries, distinct per request)."""
    if trigger.amount is None:
        return f"refund:{trigger.order_id}"
    request = trigger.meta.request_id or trigger.meta.event_id
    return f"refund:{trigger.order_id}:{request}"


def refund_id_for(key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, key))


def outcome_event_id(kind: str, record_id: str) -> str:
    """Every publish of one outcome carries the same event id, so consumers can drop duplicates by id."""
    return str(uuid.uuid5(_NAMESPACE, f"outcome:{kind}:{record_id}"))


# --- payment decisions -------------------------------------------------------------------------------------


class PaymentAction(enum.Enum):
    CLAIM_AND_CHARGE = "claim_and_charge"  # no record yet: create it PENDING (no gateway request yet), then charge
    RESUME_CHARGE = "resume_charge"  # PENDING record this trigger claimed: finish its charge, same key and intent
    IN_FLIGHT = "in_flight"  # PENDING record another trigger claimed: its delivery finishes it; no gateway request
    PUBLISH_OUTCOME = "publish_outcome"  # final record whose outcome may not have been published yet
    BLOCK_CANCELLED = "block_cancelled"  # order was cancelled before payment: record the trigger, publish failure
    DUPLICATE = "duplicate"  # final and published: nothing to do
    REJECT_MISMATCH = "reject_mismatch"  # same order, different amount/currency/customer: charge nothing


@dataclass(frozen=True, slots=True)
class PaymentDecision:
    action: PaymentAction
    reason: str = ""


def decide_payment(existing: PaymentRecord | None, trigger: PaymentTrigger) -> PaymentDecision:
    """Choose what a payment trigger may do given the order's current payment record."""
    if existing is None:
        return PaymentDecision(PaymentAction.CLAIM_AND_CHARGE)
    if existing.cancelled_before_payment:
        if existing.amount is None:
            return PaymentDecision(PaymentAction.BLOCK_CANCELLED, "order was cancelled before payment")
        if not _same_payment(existing, trigger):
            return PaymentDecision(PaymentAction.REJECT_MISMATCH, _mismatch_reason(existing, trigger))
        if existing.published:
            return PaymentDecision(PaymentAction.DUPLICATE)
        return PaymentDecision(PaymentAction.PUBLISH_OUTCOME)
    if not _same_payment(existing, trigger):
        return PaymentDecision(PaymentAction.REJECT_MISMATCH, _mismatch_reason(existing, trigger))
    if existing.status is Status.PENDING:
        if existing.causation_id is not None and existing.causation_id != trigger.meta.event_id:
            # The order's other trigger (or another producer's copy) won the claim. Only the claim's owner talks
            # to the gateway: its message stays queued until the payment is finished (and reconciliation backs it
            # up past the retry horizon), so this one is acknowledged without spending a gateway request.
            return PaymentDecision(PaymentAction.IN_FLIGHT, "the order's payment is in flight under another trigger")
        return PaymentDecision(PaymentAction.RESUME_CHARGE)
    if existing.status is Status.REQUIRES_ACTION:
        # Its payment.action_required went out before the record moved (publish first, then write): the outcome
        # now comes from the customer, through the gateway's webhook or reconciliation, never from a redelivery.
        return PaymentDecision(PaymentAction.DUPLICATE)
    if existing.published:
        return PaymentDecision(PaymentAction.DUPLICATE)
    return PaymentDecision(PaymentAction.PUBLISH_OUTCOME)


def _same_payment(existing: PaymentRecord, trigger: PaymentTrigger) -> bool:
    return existing.amount == trigger.amount and existing.customer_id == trigger.customer_id


def _mismatch_reason(existing: PaymentRecord, trigger: PaymentTrigger) -> str:
    fields = []
    if existing.amount != trigger.amount:
        fields.append("amount")
    if existing.customer_id != trigger.customer_id:
        fields.append("customerId")
    return f"order already has a payment with a different {' and '.join(fields)}"


# --- refund decisions --------------------------------------------------------------------------------------


class RefundAction(enum.Enum):
    BLOCK_PAYMENT = "block_payment"  # no payment yet: leave a cancelled marker so a later trigger cannot charge
    WAIT_FOR_PAYMENT = "wait_for_payment"  # payment still PENDING: retry the trigger later
    CANCEL_PAYMENT = "cancel_payment"  # payment waits for the customer (3-D Secure): cancel it, then decide again
    RECORD_FAILURE = "record_failure"  # nothing can be refunded: record and publish refund.failed
    RESERVE_AND_REFUND = "reserve_and_refund"  # reserve the amount against the payment, then refund
    RESUME_REFUND = "resume_refund"  # PENDING refund: call the gateway again under the same key
    PUBLISH_OUTCOME = "publish_outcome"
    DUPLICATE = "duplicate"
    REJECT_MISMATCH = "reject_mismatch"  # a reused requestId with another amount: refund nothing, tell operators


@dataclass(frozen=True, slots=True)
class RefundDecision:
    action: RefundAction
    amount: Money | None = None  # for a refused partial refund: the amount the trigger asked for
    code: str = ""
    reason: str = ""


def decide_refund(
    payment: PaymentRecord | None, existing: RefundRecord | None, trigger: RefundTrigger
) -> RefundDecision:
    """Choose what a refund trigger may do given the order's payment and this refund's own record."""
    if existing is not None:
        if trigger.amount is not None and existing.amount is not None and trigger.amount != existing.amount:
            return RefundDecision(
                RefundAction.REJECT_MISMATCH,
                reason="refund request id already used for a different amount",
            )
        if existing.status is Status.PENDING:
            return RefundDecision(RefundAction.RESUME_REFUND, amount=existing.amount)
        if existing.published:
            return RefundDecision(RefundAction.DUPLICATE)
        return RefundDecision(RefundAction.PUBLISH_OUTCOME)
    if payment is None:
        return RefundDecision(RefundAction.BLOCK_PAYMENT)
    if payment.cancelled_before_payment:
        return RefundDecision(
            RefundAction.RECORD_FAILURE,
            code=RefundFailureCode.NO_PAYMENT,
            reason="order was cancelled before any payment was taken; later payment triggers are declined",
        )
    if payment.status is Status.PENDING:
        return RefundDecision(RefundAction.WAIT_FOR_PAYMENT)
    if payment.status is Status.REQUIRES_ACTION:
        return RefundDecision(RefundAction.CANCEL_PAYMENT)
    if payment.status is Status.FAILED or payment.amount is None:
        return RefundDecision(
            RefundAction.RECORD_FAILURE,
            code=RefundFailureCode.PAYMENT_NOT_CAPTURED,
            reason="the payment for this order failed, so there is nothing to refund",
        )
    captured = payment.amount
    remaining = captured.minor_units - payment.refunded_minor_units
    if trigger.amount is None:
        if remaining <= 0:
            return RefundDecision(
                RefundAction.RECORD_FAILURE,
                code=RefundFailureCode.NOTHING_TO_REFUND,
                reason="the payment is fully refunded",
            )
        return RefundDecision(RefundAction.RESERVE_AND_REFUND, amount=Money(remaining, captured.currency))
    if trigger.amount.currency != captured.currency:
        return RefundDecision(
            RefundAction.RECORD_FAILURE,
            amount=trigger.amount,
            code=RefundFailureCode.CURRENCY_MISMATCH,
            reason=f"refund currency {trigger.amount.currency} differs from payment currency {captured.currency}",
        )
    if trigger.amount.minor_units > remaining:
        return RefundDecision(
            RefundAction.RECORD_FAILURE,
            amount=trigger.amount,
            code=RefundFailureCode.EXCEEDS_REFUNDABLE,
            reason=f"requested {trigger.amount.minor_units} exceeds the refundable {max(remaining, 0)}",
        )
    return RefundDecision(RefundAction.RESERVE_AND_REFUND, amount=trigger.amount)
