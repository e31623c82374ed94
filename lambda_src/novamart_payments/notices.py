"""Notifications from the gateway (webhooks): what they may tell us, how each is settled, and which were handled.

A notification is a hint, never the truth: it names a gateway object (a payment intent, a refund, a dispute), and
the service asks the gateway for that object's current state before it changes anything. So a replayed, late or
out-of-order notification settles a record exactly like the first, timely one, and since every write moves a
record's status only forward, the first settlement wins and the rest find nothing left to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from novamart_payments import domain
from novamart_payments.domain import PaymentRecord, Status
from novamart_payments.gateway import GatewayResult, UnknownToGateway
from novamart_payments.observability import Metric, count, logger
from novamart_payments.publisher import Dispute, payment_disputed
from novamart_payments.service import REFUND_LEASE
from novamart_payments.timestamps import plus

if TYPE_CHECKING:
    from novamart_payments.service import PaymentService


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


def settle(service: PaymentService, notice: Notice) -> str:
    """Settle what the notice is about from the gateway's truth; returns what happened, for the log.

    A notice about an object the gateway does not have (its read answers 404) is a permanent answer: it is
    acknowledged and counted (``WebhookUnknownObject``), never retried, since no retry can make the object exist.
    """
    try:
        if isinstance(notice, ChargeNotice):
            return _settle_charge(service, notice)
        if isinstance(notice, RefundNotice):
            return _settle_refund(service, notice)
        if isinstance(notice, FraudWarningNotice | ReviewNotice):
            from novamart_payments.radar import settle_fraud_notice

            return settle_fraud_notice(service, notice)
        return _record_dispute(service, notice)
    except UnknownToGateway:
        count(Metric.WEBHOOK_UNKNOWN_OBJECT)
        logger.warning("notification about an object the gateway does not have; acknowledged, not retried")
        return "unknown_object"


def _payment_behind(
    service: PaymentService, handle: str, order_hint: str | None = None
) -> tuple[PaymentRecord, GatewayResult] | None:
    """The payment whose stored attempt ``handle`` is, with what the gateway says of it now; None when the attempt
    is not one of ours (one that lost the race to be stored and was cancelled by its opener, or another system's)."""
    result = service.gateway.charge_status(handle)
    order_id = result.order_id or order_hint
    if order_id is None:
        return None
    record = service.repository.get_payment(domain.payment_id_for(order_id))
    if record is None or record.intent_id != handle:
        return None
    return record, result


def _settle_charge(service: PaymentService, notice: ChargeNotice) -> str:
    if notice.order_id is not None:
        # Most notifications repeat what a delivery already settled: a record that is final on this very attempt
        # needs nothing, so it is answered from the table without spending a gateway request. A notification that
        # could change a record is still checked against the gateway below.
        known = service.repository.get_payment(domain.payment_id_for(notice.order_id))
        if known is not None and known.intent_id == notice.handle and not known.status.unfinished:
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
    found = _payment_behind(service, notice.handle, notice.order_id)
    if found is None:
        return "not_ours"
    record, result = found
    if not record.status.unfinished:
        count(Metric.DUPLICATE_DELIVERY)
        return "duplicate"
    return service.settle_payment(record, result)


def _settle_refund(service: PaymentService, notice: RefundNotice) -> str:
    """Stripe describes one refund change with several events (``refund.updated``, ``charge.refund.updated``),
    often delivered together. The refund's gateway lease lets one of them at a time read the refund and settle
    it, so the change is published and counted once; the others find it settled, or are asked to come back."""
    if notice.refund_id is None:
        return "not_ours"
    refund = service.repository.get_refund(notice.refund_id)
    if refund is None:
        return "not_ours"
    if refund.status is not Status.PENDING and refund.published:
        count(Metric.DUPLICATE_DELIVERY)
        return "duplicate"
    if refund.status is Status.PENDING:
        now = service.now()
        if not service.repository.take_refund_lease(refund.refund_id, now, plus(now, REFUND_LEASE), str(uuid.uuid4())):
            current = service.repository.get_refund(refund.refund_id)
            if current is not None and current.status is not Status.PENDING and current.published:
                count(Metric.DUPLICATE_DELIVERY)
                return "duplicate"
            raise NoticeBusy(f"refund {refund.refund_id} is being settled by another delivery")
    # PENDING (this delivery holds its lease), or settled by a delivery that died before its event went out (a
    # decline is written, then published): settle_refund republishes what the record says, never the notice's
    # own answer.
    return service.settle_refund(refund, service.gateway.refund_status(notice.transaction_id))


def _record_dispute(service: PaymentService, notice: DisputeNotice) -> str:
    found = _payment_behind(service, notice.handle)
    if found is None or found[0].status is not Status.SUCCEEDED:
        return "not_ours"
    record = found[0]
    if notice.dispute.dispute_id in record.dispute_ids:
        count(Metric.DUPLICATE_DELIVERY)
        return "duplicate"
    # Publish first, then remember: a crash in between republishes the same event (same id) on Stripe's retry.
    service.publisher.publish(payment_disputed(record, notice.dispute))
    if not service.repository.note_dispute(record.payment_id, notice.dispute.dispute_id):
        count(Metric.DUPLICATE_DELIVERY)
        return "duplicate"
    count(Metric.PAYMENT_DISPUTED)
    logger.warning("payment disputed", extra={"dispute_reason": notice.dispute.reason})
    return "disputed"
