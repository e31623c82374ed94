"""Reconciliation: finish the payments that nothing else will.

A payment stays unfinished when its trigger ran out of redeliveries while the gateway was down (the message is in
the DLQ, the record PENDING for good), when a webhook was lost, or when the customer never came back to
authenticate. Every few minutes a scheduled pass reads the oldest unfinished payments from the sparse index
(never the table), asks the gateway what became of each by its stored intent, and settles it through the same
path as a delivery or a webhook, so it publishes the same single outcome.

- Decided at the gateway meanwhile: settled as the gateway says.
- No attempt ever opened (the outage on create outlived the retries): the record is closed to any later attempt
  first, then ``payment.failed`` (``gateway_unavailable``) is published.
- Never confirmed (the outage outlived the retries): the intent is cancelled first, so it can never be charged
  later, and only once the gateway confirms the cancellation is ``payment.failed`` (``gateway_unavailable``)
  published.
- Waiting for the customer past its deadline: cancelled the same way, ``payment.failed``
  (``authentication_expired``).
- Gateway still unreachable: left for the next pass (counted).

The pass ends by reporting the age of the oldest unfinished payment, which an alarm watches.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from novamart_payments.domain import PaymentRecord, Status
from novamart_payments.gateway import GatewayResult, Outcome, TransientGatewayError
from novamart_payments.observability import Metric, count, gauge_seconds, logger
from novamart_payments.outcomes import PaymentFailureCode
from novamart_payments.service import PaymentService, plus

#: Records per status per pass: bounded, so one pass fits the function's timeout; the oldest go first.
BATCH = 25


@dataclass(frozen=True, slots=True)
class Ages:
    pending_after: timedelta
    action_after: timedelta


def reconcile(service: PaymentService, ages: Ages, batch: int = BATCH) -> dict[str, int]:
    """One pass; returns how many records ended how (for the log and ``make reconcile``)."""
    now = service.now()
    report: Counter[str] = Counter()
    for status, after in ((Status.PENDING, ages.pending_after), (Status.REQUIRES_ACTION, ages.action_after)):
        for record in service.repository.unfinished_payments(status, plus(now, -after), batch):
            try:
                outcome = _reconcile_one(service, record, now)
            except TransientGatewayError:
                outcome = "gateway_unavailable_still"
            report[outcome.split(":")[0] if outcome.startswith("charged") else outcome] += 1
            if outcome.startswith("charged"):
                count(Metric.RECONCILED)
    oldest = [t for t in map(service.repository.oldest_unfinished_since, (Status.PENDING, Status.REQUIRES_ACTION)) if t]
    age = _seconds_between(min(oldest), now) if oldest else 0.0
    gauge_seconds(Metric.OLDEST_UNFINISHED_AGE, age)
    logger.info("reconciliation pass", extra={"report": dict(report), "oldest_unfinished_seconds": round(age)})
    return {**report, "oldest_unfinished_seconds": round(age)}


def _reconcile_one(service: PaymentService, listed: PaymentRecord, now: str) -> str:
    record = service.repository.get_payment(listed.payment_id)  # the index is eventually consistent
    if record is None or not record.status.unfinished:
        return "already_finished"
    if record.intent_id is None:
        # The claim's owner never got an attempt opened and stored (the gateway stayed unavailable past the retry
        # horizon, or the trigger dead-lettered). Close the door first: once this write holds, no delivery can
        # store a handle, and only a stored handle is ever confirmed, so nothing was or will be charged.
        if not service.repository.abandon_without_intent(record.payment_id, now):
            return "changed_meanwhile"  # a delivery stored its attempt (or finished) just now: the next pass looks
        gave_up = GatewayResult(
            Outcome.DECLINED,
            None,
            PaymentFailureCode.GATEWAY_UNAVAILABLE,
            "The payment gateway stayed unavailable beyond the retry horizon; nothing was charged.",
            record.created_at,
        )
        return service.settle_payment(record, gave_up)
    gateway = service.gateway
    result = gateway.charge_status(record.intent_id)
    if result.outcome is Outcome.NOT_STARTED:
        return _cancel_then_settle(
            service,
            record,
            PaymentFailureCode.GATEWAY_UNAVAILABLE,
            "The payment gateway stayed unavailable beyond the retry horizon; nothing was charged.",
        )
    expired = record.action_expires_at is not None and record.action_expires_at <= now
    if result.outcome is Outcome.REQUIRES_ACTION and expired:
        return _cancel_then_settle(
            service,
            record,
            PaymentFailureCode.AUTHENTICATION_EXPIRED,
            "The customer did not complete authentication before the deadline; nothing was charged.",
        )
    return service.settle_payment(record, result)


def _cancel_then_settle(service: PaymentService, record: PaymentRecord, code: str, reason: str) -> str:
    """Cancel the attempt, then settle from what the gateway answers: a cancelled attempt fails with the service's
    code; one that succeeded meanwhile (the customer was just in time) is settled as succeeded."""
    assert record.intent_id is not None
    result = service.gateway.cancel_charge(record.intent_id)
    if result.outcome is Outcome.DECLINED and result.code == PaymentFailureCode.PAYMENT_CANCELED:
        return service.settle_payment(record, result, code=code, reason=reason)
    return service.settle_payment(record, result)


def _seconds_between(earlier: str, later: str) -> float:
    def parse(ts: str) -> datetime:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))

    return max((parse(later) - parse(earlier)).total_seconds(), 0.0)
