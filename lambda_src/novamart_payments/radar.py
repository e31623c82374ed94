"""Stripe Radar's signals after the charge (issue 20): early fraud warnings and manual reviews.

An early fraud warning is the card network saying a charge is likely fraud, before the cardholder disputes it.
Refunding then costs the goods but not the dispute fee, and keeps the dispute rate down. By the configured policy
(``RADAR_EARLY_FRAUD_WARNING_POLICY``: ``refund_actionable``, the default, or ``refund_all`` / ``record_only``)
the order is refunded **once**, through the service's own refund path as a full refund of the order: it has the
order's full-refund key, so a replayed warning, a second event about the same warning, an ``order.cancelled`` of
the same order and a review closed as fraud all make one refund together, and its amount is what remains
refundable (never more: the payment's refund ceiling). It publishes ``refund.succeeded`` with
``refundReason: fraudulent``. Reviews (``review.opened`` / ``review.closed``) are recorded on the payment
(``radarReviews``). A review closed as ``refunded_as_fraud`` was refunded by Stripe itself: the service reads that
refund back from Stripe (never the notice's word) and adopts it as the same full refund of the order, so it is
recorded and published once (``refund.succeeded``, ``fraudulent``) without a gateway refund of our own, and an
early fraud warning about the same charge, before or after, converges on it instead of refunding again.
"""

from __future__ import annotations

from dataclasses import replace

from novamart_payments import domain
from novamart_payments.domain import RefundTrigger, Status, TriggerMeta
from novamart_payments.failure_codes import RefundReason
from novamart_payments.ports import FraudWarningNotice, ReviewNotice
from novamart_payments.refund_flow import RefundFlow
from novamart_payments.telemetry import count, logger

POLICIES = ("refund_actionable", "refund_all", "record_only")
#: Stripe's reason for a review closed by refunding the charge as fraud.
REFUNDED_AS_FRAUD = "refunded_as_fraud"


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


class FraudSettlement(RefundFlow):
    """What the service does with Radar's signals: a review recorded, an order refunded as fraud (once)."""

    def settle_fraud_notice(self, notice: FraudWarningNotice | ReviewNotice, policy: str = "") -> str:
        """Record a review, or refund the order an early fraud warning is about (once, for what remains)."""
        order_id = self._gateway.charge_status(notice.handle).order_id  # the truth, never the notice's word
        if order_id is None:
            return "not_ours"
        if isinstance(notice, ReviewNotice):
            return self._settle_review(order_id, notice)
        count(RadarMetric.EARLY_FRAUD_WARNING)
        chosen = policy or _policy()
        if chosen == "record_only" or (chosen == "refund_actionable" and not notice.actionable):
            logger.warning("early fraud warning recorded, not refunded", extra={"policy": chosen})
            return "warning_recorded"
        trigger = fraud_refund_trigger(order_id, "", f"efw:{notice.warning_id}")
        record, existing = self.refund_records(trigger)  # one read for both (the record budget: config.py)
        if record is None or record.intent_id != notice.handle:
            return "not_ours"
        if record.status is not Status.SUCCEEDED:
            return "nothing_charged"
        if existing is None and record.amount is not None and record.refunded_minor_units >= record.amount.minor_units:
            return "already_refunded"  # nothing left: no refund.failed for a refund nobody asked the service for
        trigger = replace(trigger, meta=replace(trigger.meta, correlation_id=record.correlation_id))
        outcome = self.handle_refund(trigger, known=(record, existing))
        count(RadarMetric.FRAUD_REFUND)
        logger.warning("charge refunded as fraud", extra={"outcome": outcome})
        return f"fraud_refund:{outcome}"

    def _settle_review(self, order_id: str, notice: ReviewNotice) -> str:
        """Record the review on the payment; a review closed as refunded as fraud also publishes Stripe's refund."""
        trigger = fraud_refund_trigger(order_id, "", f"review:{notice.review_id}")
        record, existing = self.refund_records(trigger)  # the payment and the order's full refund, one read
        if record is None or record.intent_id != notice.handle:
            return "not_ours"
        state = "opened" if notice.opened else f"closed:{notice.reason}"
        self._repo.note_review(record.payment_id, notice.review_id, state)
        if notice.opened:
            count(RadarMetric.REVIEW_OPENED)
            return "review_opened"
        if notice.reason != REFUNDED_AS_FRAUD or record.status is not Status.SUCCEEDED or record.amount is None:
            return f"review_closed:{notice.reason}"
        adopted = None
        if existing is None or existing.status is Status.PENDING:
            # What Stripe refunded, read back from Stripe: the amount still refundable on our record, by a refund
            # that is not one of ours. An early fraud warning's refund in flight (PENDING) settles on its own
            # attempt if that got through, else on Stripe's: never a second refund.
            in_flight = existing.amount.minor_units if existing is not None and existing.amount is not None else 0
            left = record.amount.minor_units - record.refunded_minor_units + in_flight
            adopted = self._gateway.find_outside_refund(notice.handle, left) if left > 0 else None
            if existing is None and adopted is None:
                logger.warning("review closed as refunded as fraud, but Stripe shows no such refund left to publish")
                return "review_closed:no_refund_to_publish"
        trigger = replace(trigger, meta=replace(trigger.meta, correlation_id=record.correlation_id))
        outcome = self.handle_refund(trigger, known=(record, existing), adopt=adopted)
        count(RadarMetric.FRAUD_REFUND)
        logger.warning("refund of a review closed as fraud published", extra={"outcome": outcome})
        return f"review_refund:{outcome}"


def _policy() -> str:
    from novamart_payments.config import get_config

    return get_config().radar_early_fraud_warning_policy
