"""Reconciliation: finish the payments and refunds that nothing else will.

A payment stays unfinished when its trigger ran out of redeliveries while the gateway was down (the message is in
the DLQ, the record PENDING for good), when a webhook was lost, or when the customer never came back to
authenticate. A refund stays PENDING when its trigger dead-lettered after (or before) the refund call, or when the
webhook that settles it was lost. Every few minutes a scheduled pass reads the oldest unfinished records from each
table's sparse index (never the table), asks the gateway what became of each, and settles it through the same path
as a delivery or a webhook, so it publishes the same single outcome.

- Decided at the gateway meanwhile: settled as the gateway says.
- No attempt ever opened (the outage on create outlived the retries): the record is closed to any later attempt
  first, then ``payment.failed`` (``gateway_unavailable``) is published.
- Never confirmed (the outage outlived the retries): the intent is cancelled first, so it can never be charged
  later, and only once the gateway confirms the cancellation is ``payment.failed`` (``gateway_unavailable``)
  published.
- Waiting for the customer past its deadline: cancelled the same way, ``payment.failed``
  (``authentication_expired``).
- A refund: settled from the gateway's refund (found by its id, or by the refund id in its metadata); with no
  refund at the gateway, nothing was refunded, so the reservation is given back and ``refund.failed`` published.
- Gateway still unreachable: left for the next pass (counted).

The report counts each record by what it ended as: ``charged``, ``failed:<code>`` (declined as the gateway
says), ``cancelled:<code>`` (cancelled by this pass), ``refunded``, ``refund_failed:<code>``, ``nothing_to_do``
(finished meanwhile, still waiting, or held by another delivery), ``action_required`` (a lost 3-D Secure request,
published now) and ``retry_next_pass`` (gateway unreachable).
The pass ends by reporting the age of the oldest unfinished payment or refund, which an alarm watches.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from novamart_payments.domain import PaymentRecord, RefundRecord, Status
from novamart_payments.failure_codes import PaymentFailureCode, RefundFailureCode
from novamart_payments.gateway import GatewayResult, Outcome, RefundRequest, TransientGatewayError, UnknownToGateway
from novamart_payments.payment_flow import REFUND_LEASE
from novamart_payments.refund_flow import RefundFlow
from novamart_payments.telemetry import Metric, count, gauge_seconds, logger
from novamart_payments.timestamps import plus, seconds_between

#: Records per status per pass: bounded, so one pass fits the function's timeout; the oldest go first.
BATCH = 25
#: What settle_payment / settle_refund answer when the record needed nothing (or someone else finished it).
_NOTHING = frozenset({"undecided", "awaiting_customer", "duplicate", "refund_pending"})
#: Report entries that are a record finished (or moved on) by this pass, counted by the ``Reconciled`` metric.
_SETTLED = ("charged", "failed:", "cancelled:", "action_required", "refunded", "refund_failed:")


@dataclass(frozen=True, slots=True)
class Ages:
    pending_after: timedelta
    action_after: timedelta


class Reconciliation(RefundFlow):
    """The service's reconciliation pass (``reconcile``), through its own payment and refund settlements."""

    def reconcile(self, ages: Ages, batch: int = BATCH) -> dict[str, int]:
        """One pass; returns how many records ended how (for the log and ``make reconcile``)."""
        now = self._now()
        report: Counter[str] = Counter()
        repo = self._repo
        for status, after in ((Status.PENDING, ages.pending_after), (Status.REQUIRES_ACTION, ages.action_after)):
            for record in repo.unfinished_payments(status, plus(now, -after), batch):
                report[_guarded(functools.partial(self._reconcile_one, record, now))] += 1
        for refund in repo.unfinished_refunds(plus(now, -ages.pending_after), batch):
            report[_guarded(functools.partial(self._reconcile_refund, refund))] += 1
        for _ in range(sum(n for outcome, n in report.items() if outcome.startswith(_SETTLED))):
            count(Metric.RECONCILED)
        oldest = [
            t
            for t in (
                repo.oldest_unfinished_since(Status.PENDING),
                repo.oldest_unfinished_since(Status.REQUIRES_ACTION),
                repo.oldest_unfinished_since(Status.PENDING, refunds=True),
            )
            if t
        ]
        age = seconds_between(min(oldest), now) if oldest else 0.0
        gauge_seconds(Metric.OLDEST_UNFINISHED_AGE, age)
        logger.info("reconciliation pass", extra={"report": dict(report), "oldest_unfinished_seconds": round(age)})
        return {**report, "oldest_unfinished_seconds": round(age)}

    def _reconcile_one(self, listed: PaymentRecord, now: str) -> str:
        record = self._repo.get_payment(listed.payment_id)  # the index is eventually consistent
        if record is None or not record.status.unfinished:
            return "nothing_to_do"
        if record.intent_id is None:
            # The claim's owner never got an attempt opened and stored (the gateway stayed unavailable past the retry
            # horizon, or the trigger dead-lettered). Close the door first: once this write holds, no delivery can
            # store a handle, and only a stored handle is ever confirmed, so nothing was or will be charged.
            if not self._repo.abandon_without_intent(record.payment_id, now):
                return "nothing_to_do"  # a delivery stored its attempt (or finished) just now: the next pass looks
            gave_up = GatewayResult(
                Outcome.DECLINED,
                None,
                PaymentFailureCode.GATEWAY_UNAVAILABLE,
                "The payment gateway stayed unavailable beyond the retry horizon; nothing was charged.",
                record.created_at,
            )
            return _label(self.settle_payment(record, gave_up), gave_up, cancelled=True)
        gateway = self._gateway
        result = gateway.charge_status(record.intent_id)
        if result.outcome is Outcome.NOT_STARTED:
            return self._cancel_then_settle(
                record,
                PaymentFailureCode.GATEWAY_UNAVAILABLE,
                "The payment gateway stayed unavailable beyond the retry horizon; nothing was charged.",
            )
        expired = record.action_expires_at is not None and record.action_expires_at <= now
        if result.outcome is Outcome.REQUIRES_ACTION and expired:
            return self._cancel_then_settle(
                record,
                PaymentFailureCode.AUTHENTICATION_EXPIRED,
                "The customer did not complete authentication before the deadline; nothing was charged.",
            )
        return _label(self.settle_payment(record, result), result)

    def _cancel_then_settle(self, record: PaymentRecord, code: str, reason: str) -> str:
        """Cancel the attempt, then settle from what the gateway answers: a cancelled attempt fails with the service's
        code; one that succeeded meanwhile (the customer was just in time) is settled as succeeded."""
        assert record.intent_id is not None
        result = self._gateway.cancel_charge(record.intent_id)
        if result.outcome is Outcome.DECLINED and result.code == PaymentFailureCode.PAYMENT_CANCELED:
            return _label(self.settle_payment(record, result, code=code, reason=reason), result, code, cancelled=True)
        return _label(self.settle_payment(record, result), result)

    def _reconcile_refund(self, listed: RefundRecord) -> str:
        """Settle a PENDING refund from the gateway, holding its lease like a delivery does (so a trigger's redelivery
        or a webhook cannot settle it at the same time, and a delivery still calling the gateway is left alone)."""
        repo = self._repo
        now = self._now()
        lease = repo.take_refund_lease(listed.refund_id, now, plus(now, REFUND_LEASE), str(uuid.uuid4()))
        if lease is None:
            return "nothing_to_do"  # settled meanwhile, or a live delivery holds it: the next pass looks again
        refund = repo.get_refund(listed.refund_id)
        payment = repo.get_payment(refund.payment_id) if refund is not None and refund.payment_id else None
        if refund is None or refund.status is not Status.PENDING or refund.amount is None or payment is None:
            return "nothing_to_do"
        handle = payment.intent_id or payment.transaction_id
        assert handle is not None  # a refund is reserved only against a captured payment
        if refund.transaction_id is not None:
            result: GatewayResult | None = self._gateway.refund_status(refund.transaction_id)
        elif lease.nothing_sent:
            result = None  # its last attempt was refused before it did anything: there is nothing to look for
        else:
            request = RefundRequest(refund.idempotency_key, refund.order_id, refund.refund_id, handle, refund.amount)
            result = self._gateway.find_refund(request)
        if result is None:
            # The refund never reached the gateway (the trigger dead-lettered before its call got through): nothing
            # was refunded. Give the reservation back and say so; a new trigger can ask again.
            result = GatewayResult(
                Outcome.DECLINED,
                None,
                RefundFailureCode.REFUND_DECLINED,
                "The refund never reached the payment gateway before its retries ran out; nothing was refunded.",
                now,
            )
        settled = self.settle_refund(refund, result)
        if settled in _NOTHING:
            return "nothing_to_do"
        if result.approved:
            return "refunded"
        current = repo.get_refund(refund.refund_id)
        return f"refund_failed:{current.failure_code if current is not None else result.code}"


def _guarded(step: Callable[[], str]) -> str:
    try:
        return step()
    except TransientGatewayError:
        return "retry_next_pass"
    except UnknownToGateway:
        # Our own record names an object the gateway does not have: never settled by guessing; an operator looks.
        logger.error("an unfinished record names an object the gateway does not have")
        return "unknown_at_gateway"


def _label(settled: str, result: GatewayResult, code: str | None = None, *, cancelled: bool = False) -> str:
    """The report's word for what ``settle_payment`` did with ``result``."""
    if settled in _NOTHING:
        return "nothing_to_do"
    if settled == "requires_action":  # a lost webhook: the bank asks the customer (payment.action_required)
        return "action_required"
    if result.approved:
        return "charged"
    return f"{'cancelled' if cancelled else 'failed'}:{code or result.code}"
