"""Stripe Radar's signals after the charge (issue 20): early fraud warnings and manual reviews.

An early fraud warning is the card network saying a charge is likely fraud, before the cardholder disputes it.
Refunding then costs the goods but not the dispute fee, and keeps the dispute rate down. By the configured policy
(``RADAR_EARLY_FRAUD_WARNING_POLICY``: ``refund_actionable``, the default, or ``refund_all`` / ``record_only``)
the order is refunded **once**, through the service's own refund path as a full refund of the order: it has the
order's full-refund key, so a replayed warning, a second event about the same warning, an ``order.cancelled`` of
the same order and a review closed as fraud all make one refund together, and its amount is what remains
refundable (never more: the payment's refund ceiling). It publishes ``refund.succeeded`` with
``refundReason: fraudulent``. Reviews (``review.opened`` / ``review.closed``) are recorded on the payment
(``radarReviews``). Not done yet: a review closed as ``refunded_as_fraud`` is refunded by Stripe itself, and
publishing that refund needs the service to adopt a refund it did not make (docs/risk.md).
"""

from __future__ import annotations

from dataclasses import replace

from novamart_payments import domain
from novamart_payments.domain import RefundTrigger, Status, TriggerMeta
from novamart_payments.notices import FraudWarningNotice, ReviewNotice
from novamart_payments.observability import count, logger
from novamart_payments.outcomes import RefundReason
from novamart_payments.service import PaymentService

POLICIES = ("refund_actionable", "refund_all", "record_only")


class RadarMetric:
    EARLY_FRAUD_WARNING = "EarlyFraudWarning"
    FRAUD_REFUND = "FraudRefund"
    REVIEW_OPENED = "RadarReviewOpened"


def fraud_refund_trigger(order_id: str, correlation_id: str, cause: str) -> RefundTrigger:
    """A full refund of the order (``amount=None``: the order's full-refund key, so it is made once per order
    whoever asks, and for what remains refundable). ``cause`` names the warning or review, for the causation id."""
    return RefundTrigger(
        order_id=order_id,
        reason=RefundReason.FRAUDULENT,
        amount=None,
        meta=TriggerMeta(domain.outcome_event_id("fraud-notice", cause), correlation_id, None),
    )


def settle_fraud_notice(service: PaymentService, notice: FraudWarningNotice | ReviewNotice, policy: str = "") -> str:
    """Record a review, or refund the order an early fraud warning is about (once, for what remains)."""
    order_id = service.gateway.charge_status(notice.handle).order_id  # the truth, never the notice's word
    if order_id is None:
        return "not_ours"
    if isinstance(notice, ReviewNotice):
        record = service.repository.get_payment(domain.payment_id_for(order_id))
        if record is None or record.intent_id != notice.handle:
            return "not_ours"
        state = "opened" if notice.opened else f"closed:{notice.reason}"
        service.repository.note_review(record.payment_id, notice.review_id, state)
        if notice.opened:
            count(RadarMetric.REVIEW_OPENED)
            return "review_opened"
        return f"review_closed:{notice.reason}"
    count(RadarMetric.EARLY_FRAUD_WARNING)
    chosen = policy or _policy()
    if chosen == "record_only" or (chosen == "refund_actionable" and not notice.actionable):
        logger.warning("early fraud warning recorded, not refunded", extra={"policy": chosen})
        return "warning_recorded"
    trigger = fraud_refund_trigger(order_id, "", f"efw:{notice.warning_id}")
    record, existing = service.refund_records(trigger)  # one read for both (the record budget: config.py)
    if record is None or record.intent_id != notice.handle:
        return "not_ours"
    if record.status is not Status.SUCCEEDED:
        return "nothing_charged"
    if existing is None and record.amount is not None and record.refunded_minor_units >= record.amount.minor_units:
        return "already_refunded"  # nothing left: no refund.failed for a refund nobody asked the service for
    trigger = replace(trigger, meta=replace(trigger.meta, correlation_id=record.correlation_id))
    outcome = service.handle_refund(trigger, known=(record, existing))
    count(RadarMetric.FRAUD_REFUND)
    logger.warning("charge refunded as fraud", extra={"outcome": outcome})
    return f"fraud_refund:{outcome}"


def _policy() -> str:
    from novamart_payments.config import get_config

    return get_config().radar_early_fraud_warning_policy
