"""Settling the gateway's notifications (webhooks): charges, refunds and disputes, from the gateway's truth.

A notification is a hint, never the truth: it names a gateway object (a payment intent, a refund, a dispute), and
the service asks the gateway for that object's current state before it changes anything. So a replayed, late or
out-of-order notification settles a record exactly like the first, timely one, and since every write moves a
record's status only forward, the first settlement wins and the rest find nothing left to do.
"""

from __future__ import annotations

import uuid

from novamart_payments import domain
from novamart_payments.domain import PaymentRecord, Status
from novamart_payments.events import payment_disputed
from novamart_payments.gateway import GatewayResult, UnknownToGateway
from novamart_payments.payment_flow import REFUND_LEASE
from novamart_payments.ports import (
    ChargeNotice,
    DisputeNotice,
    FraudWarningNotice,
    Notice,
    NoticeBusy,
    RefundNotice,
    ReviewNotice,
)
from novamart_payments.radar import FraudSettlement
from novamart_payments.telemetry import Metric, count, logger
from novamart_payments.timestamps import plus


class NoticeSettlement(FraudSettlement):
    """What the service does with a notice (``settle_notice``), through its own payment and refund flows."""

    def settle_notice(self, notice: Notice) -> str:
        """Settle what the notice is about from the gateway's truth; returns what happened, for the log.

        A notice about an object the gateway does not have (its read answers 404) is a permanent answer: it is
        acknowledged and counted (``WebhookUnknownObject``), never retried, since no retry can make the object exist.
        """
        try:
            if isinstance(notice, ChargeNotice):
                return self._settle_charge(notice)
            if isinstance(notice, RefundNotice):
                return self._settle_refund(notice)
            if isinstance(notice, FraudWarningNotice | ReviewNotice):
                return self.settle_fraud_notice(notice)
            return self._record_dispute(notice)
        except UnknownToGateway:
            count(Metric.WEBHOOK_UNKNOWN_OBJECT)
            logger.warning("notification about an object the gateway does not have; acknowledged, not retried")
            return "unknown_object"

    def _payment_behind(self, handle: str, order_hint: str | None = None) -> tuple[PaymentRecord, GatewayResult] | None:
        """The payment whose stored attempt ``handle`` is, with what the gateway says of it now; None when the
        attempt is not one of ours (one that lost the race to be stored and was cancelled by its opener, or another
        system's)."""
        result = self._gateway.charge_status(handle)
        order_id = result.order_id or order_hint
        if order_id is None:
            return None
        record = self._repo.get_payment(domain.payment_id_for(order_id))
        if record is None or record.intent_id != handle:
            return None
        return record, result

    def _settle_charge(self, notice: ChargeNotice) -> str:
        if notice.order_id is not None:
            # Most notifications repeat what a delivery already settled: a record that is final on this very attempt
            # needs nothing, so it is answered from the table without spending a gateway request. A notification that
            # could change a record is still checked against the gateway below.
            known = self._repo.get_payment(domain.payment_id_for(notice.order_id))
            if known is not None and known.intent_id == notice.handle and not known.status.unfinished:
                count(Metric.DUPLICATE_DELIVERY)
                return "duplicate"
        found = self._payment_behind(notice.handle, notice.order_id)
        if found is None:
            return "not_ours"
        record, result = found
        if not record.status.unfinished:
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
        return self.settle_payment(record, result)

    def _settle_refund(self, notice: RefundNotice) -> str:
        """Stripe describes one refund change with several events (``refund.updated``, ``charge.refund.updated``),
        often delivered together. The refund's gateway lease lets one of them at a time read the refund and settle
        it, so the change is published and counted once; the others find it settled, or are asked to come back."""
        if notice.refund_id is None:
            return "not_ours"
        refund = self._repo.get_refund(notice.refund_id)
        if refund is None:
            return "not_ours"
        if refund.status is not Status.PENDING and refund.published:
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
        if refund.status is Status.PENDING:
            now = self._now()
            if not self._repo.take_refund_lease(refund.refund_id, now, plus(now, REFUND_LEASE), str(uuid.uuid4())):
                current = self._repo.get_refund(refund.refund_id)
                if current is not None and current.status is not Status.PENDING and current.published:
                    count(Metric.DUPLICATE_DELIVERY)
                    return "duplicate"
                raise NoticeBusy(f"refund {refund.refund_id} is being settled by another delivery")
        # PENDING (this delivery holds its lease), or settled by a delivery that died before its event went out (a
        # decline is written, then published): settle_refund republishes what the record says, never the notice's
        # own answer.
        return self.settle_refund(refund, self._gateway.refund_status(notice.transaction_id))

    def _record_dispute(self, notice: DisputeNotice) -> str:
        found = self._payment_behind(notice.handle)
        if found is None or found[0].status is not Status.SUCCEEDED:
            return "not_ours"
        record = found[0]
        if notice.dispute.dispute_id in record.dispute_ids:
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
        # Publish first, then remember: a crash in between republishes the same event (same id) on Stripe's retry.
        self._publisher.publish(payment_disputed(record, notice.dispute))
        if not self._repo.note_dispute(record.payment_id, notice.dispute.dispute_id):
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
        count(Metric.PAYMENT_DISPUTED)
        logger.warning("payment disputed", extra={"dispute_reason": notice.dispute.reason})
        return "disputed"
