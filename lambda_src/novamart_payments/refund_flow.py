"""The refund flow of the service: reserve the amount, hold the refund's gateway lease, refund once, settle.

The gateway does not deduplicate refunds for us: the refund's conditional reservation keeps the refunded total at or
below the capture, and its lease lets one delivery at a time ask the gateway and refund (see ``handle_refund``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from novamart_payments import domain
from novamart_payments.domain import PaymentRecord, RefundAction, RefundRecord, RefundTrigger, Status
from novamart_payments.events import refund_outcome
from novamart_payments.failure_codes import DEFAULT_REFUND_FAILURE, PaymentFailureCode
from novamart_payments.gateway import GatewayRateLimited, GatewayResult, Outcome, RefundRequest
from novamart_payments.payment_flow import MAX_ROUNDS, REFUND_LEASE, PaymentFlow, RetryLater
from novamart_payments.telemetry import Metric, count, logger
from novamart_payments.timestamps import plus


class RefundFlow(PaymentFlow):
    def refund_records(self, trigger: RefundTrigger) -> tuple[PaymentRecord | None, RefundRecord | None]:
        """The order's payment and the trigger's own refund, as ``handle_refund`` first reads them (one call)."""
        key = domain.refund_key(trigger)
        return self._repo.get_payment_and_refund(domain.payment_id_for(trigger.order_id), domain.refund_id_for(key))

    def handle_refund(
        self,
        trigger: RefundTrigger,
        known: tuple[PaymentRecord | None, RefundRecord | None] | None = None,
        adopt: GatewayResult | None = None,
        delivery: str | None = None,
    ) -> str:
        """Refund what the trigger asks for, never more than was captured; returns what happened. ``known``: the
        records a caller just read with ``refund_records`` (the first round then reads nothing). ``adopt``: a
        refund the gateway already made without us (read back from it by the caller), recorded and published as
        this refund's answer instead of a new gateway request (``radar``: a review closed as refunded as fraud).

        ``delivery`` names the SQS message (its id), the owner of the refund's gateway lease: a redelivery of the
        same message, which comes back after a backoff of seconds, takes its own lease back at once (asking the
        gateway before it refunds again, unless the record says nothing was sent), instead of waiting out the
        lease's 5 minutes past a short retry horizon into the DLQ. A different message (the order's other trigger,
        a producer's copy) still waits for the lease. Without one (a direct call), the call is its own delivery."""
        payment_id = domain.payment_id_for(trigger.order_id)
        key = domain.refund_key(trigger)
        refund_id = domain.refund_id_for(key)
        me = delivery or str(uuid.uuid4())  # this message, as the owner of a refund lease
        for _ in range(MAX_ROUNDS):
            payment, existing = known if known is not None else self._repo.get_payment_and_refund(payment_id, refund_id)
            known = None
            decision = domain.decide_refund(payment, existing, trigger)
            action = decision.action
            if action is RefundAction.DUPLICATE:
                count(Metric.DUPLICATE_DELIVERY)
                return "duplicate"
            if action is RefundAction.REJECT_MISMATCH:
                # Same as a payment trigger with another amount: nothing moves, the producer's bug pages an
                # operator through the DuplicateRejected alarm (docs/operations.md).
                count(Metric.DUPLICATE_REJECTED)
                logger.warning("refund trigger rejected", extra={"reason": decision.reason})
                return "rejected_mismatch"
            if action is RefundAction.PUBLISH_OUTCOME:
                assert existing is not None
                return self._publish_refund(existing, "republished")
            if action is RefundAction.RESUME_REFUND:
                assert existing is not None
                return self._refund(existing, payment, lease_owner=me, resumed=True, adopt=adopt)
            if action is RefundAction.WAIT_FOR_PAYMENT:
                raise RetryLater(f"payment for order {trigger.order_id} is still in flight")
            if action is RefundAction.CANCEL_PAYMENT:
                # The order ends while its payment waits for the customer: cancel the attempt so the customer can
                # no longer complete it. If they completed it just before, the gateway says so and it is refunded.
                assert payment is not None and payment.intent_id is not None
                result = self._gateway.cancel_charge(payment.intent_id)
                _, payment = self._settle_payment(
                    payment,
                    result,
                    PaymentFailureCode.ORDER_CANCELLED,
                    "The order ended while the payment waited for the customer's authentication.",
                )
                if payment is None or payment.status.unfinished:
                    continue  # decide again from a fresh read
                # Decide on the payment as settled, without reading it back (the record budget: config.py).
                decision = domain.decide_refund(payment, None, trigger)
                action = decision.action
            if action is RefundAction.BLOCK_PAYMENT:
                blocked = self._repo.block_payment(payment_id, trigger.order_id, trigger.meta, self._now())
                if not blocked.won:
                    continue  # a payment appeared meanwhile: decide again against it
                payment = blocked.current
                decision = domain.decide_refund(payment, None, trigger)
                action = decision.action
            refund = self._new_refund(refund_id, key, payment, trigger, decision)
            if action is RefundAction.RECORD_FAILURE:
                stored = self._repo.record_refund_failure(refund)
                if stored.won and stored.current is not None:
                    return self._publish_refund(stored.current, "refused")
                continue
            # RESERVE_AND_REFUND
            assert payment is not None
            lease_until = plus(refund.created_at, REFUND_LEASE)
            if self._repo.reserve_refund(payment, refund, refund.created_at, lease_until, me):
                return self._refund(refund, payment, lease_owner=me, resumed=False, adopt=adopt)
            # Lost a race: another refund took the amount, or this refund exists already. Decide again.
        raise RetryLater(f"refund {refund_id} kept changing under concurrent deliveries")

    def _new_refund(
        self,
        refund_id: str,
        key: str,
        payment: PaymentRecord | None,
        trigger: RefundTrigger,
        decision: domain.RefundDecision,
    ) -> RefundRecord:
        now = self._now()
        failed = decision.action is RefundAction.RECORD_FAILURE
        if payment is not None and payment.cancelled_before_payment:
            payment = None  # a cancel marker is not a payment: refund.failed (no_payment) names none
        return RefundRecord(
            refund_id=refund_id,
            order_id=trigger.order_id,
            status=Status.FAILED if failed else Status.PENDING,
            amount=decision.amount,
            payment_id=payment.payment_id if payment is not None else None,
            customer_id=payment.customer_id if payment is not None else None,
            reason=trigger.reason,
            failure_code=decision.code or None,
            failure_reason=decision.reason or None,
            correlation_id=trigger.meta.correlation_id,
            causation_id=trigger.meta.event_id,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
        )

    def _refund(
        self,
        refund: RefundRecord,
        payment: PaymentRecord | None,
        *,
        lease_owner: str,
        resumed: bool,
        adopt: GatewayResult | None = None,
    ) -> str:
        """Refund through the gateway, publish, then finish the record (same crash reasoning as ``_charge``).

        The gateway does not deduplicate refunds for us. The delivery that reserved the refund holds its lease and
        refunds at once. A delivery that resumes a PENDING refund spends only the gateway requests still missing:
        none when the gateway's answer is already recorded (an approval: publish and finish; a refund the gateway
        settles later: its webhook or reconciliation finishes it); otherwise it takes the lease (one at a time),
        asks the gateway whether an earlier attempt got through, unless the record says none was made, and
        refunds only if none did. A refund to ``adopt`` stands in for the delivery's own request (after its own
        earlier attempt, if one got through).
        """
        handle = payment.intent_id or payment.transaction_id if payment is not None else None
        if handle is None or refund.amount is None:  # pragma: no cover
            raise RetryLater(f"refund {refund.refund_id} has no captured payment to refund against")
        request = RefundRequest(refund.idempotency_key, refund.order_id, refund.refund_id, handle, refund.amount)
        if not resumed:
            return self.settle_refund(refund, adopt or self._refund_once(request, lease_owner))
        if refund.approved:
            return self._refund_decided(refund)
        if refund.transaction_id is not None:
            count(Metric.DUPLICATE_DELIVERY)  # accepted by the gateway, settles later: nothing to ask or publish
            return "refund_pending"
        now = self._now()
        lease = self._repo.take_refund_lease(refund.refund_id, now, plus(now, REFUND_LEASE), lease_owner)
        if lease is None:
            raise RetryLater(f"refund {refund.refund_id} is being carried out by another delivery")
        found = None
        if not lease.nothing_sent:
            try:
                found = self._gateway.find_refund(request)
            except Exception:
                # Only asked, refunded nothing: the next delivery need not wait for the lease to run out.
                self._repo.release_refund_lease(refund.refund_id, lease_owner, nothing_sent=False)
                raise
        return self.settle_refund(refund, found or adopt or self._refund_once(request, lease_owner))

    def _refund_once(self, request: RefundRequest, lease_owner: str) -> GatewayResult:
        """One refund request, by the lease's holder. Refused before it did anything (the request budget, or the
        gateway's 429 on every attempt): the lease goes back marked so, and the next delivery refunds without
        asking first. Any other failure keeps the lease: the refund may exist at the gateway, so whoever takes
        it next asks before it refunds; a different message waits until it runs out, this message's redelivery
        takes it back at once (a request still under way at Stripe carries the same idempotency key)."""
        try:
            return self._gateway.refund(request)
        except GatewayRateLimited:
            self._repo.release_refund_lease(request.refund_id, lease_owner, nothing_sent=True)
            raise

    def settle_refund(self, refund: RefundRecord, result: GatewayResult) -> str:
        """Carry the gateway's answer about a PENDING refund into the record and onto the bus (from the trigger's
        delivery, or later from a webhook once the gateway settled it). A failed refund gives its reserved amount
        back to the payment's refundable balance in the same transaction that fails it.

        ``refund`` may be a stale copy and ``result`` a stale answer: the record decides. An approval is recorded on
        the PENDING refund before refund.succeeded goes out, and that event is derived from the item the write
        returns; a decline must find the refund PENDING and not approved. So the first answer recorded is the only
        one ever published, and a final record still means its event went out (publish, then finish)."""
        if result.outcome is Outcome.PENDING:
            if not self._repo.note_refund_pending(refund.refund_id, result.transaction_id, self._now()):
                count(Metric.DUPLICATE_DELIVERY)  # settled meanwhile (a webhook was faster)
                return "duplicate"
            count(Metric.REFUND_PENDING)
            logger.info("refund accepted by the gateway, settles later; no outcome event yet")
            return "refund_pending"
        now = self._now()
        if not result.approved:
            code, reason = result.code or DEFAULT_REFUND_FAILURE, result.reason or "The gateway declined the refund."
            if not self._repo.fail_reserved_refund(refund, code, reason, now):
                return self._refund_decided(self._repo.get_refund(refund.refund_id))
            failed = replace(refund, status=Status.FAILED, failure_code=code, failure_reason=reason, updated_at=now)
            return self._publish_refund(failed, "refund_declined")
        approval = self._repo.approve_refund(refund, result.transaction_id, result.processed_at or refund.created_at)
        return self._refund_decided(approval.current)

    def _refund_decided(self, current: RefundRecord | None) -> str:
        """Publish what the record says about a refund whose answer is recorded: an approval (recorded by this
        delivery or an earlier one) goes out as refund.succeeded and then finishes the record; a refund that has
        already moved on publishes nothing new, only its own outcome if that may not have gone out yet."""
        if current is None or (current.status is Status.PENDING and not current.approved):  # pragma: no cover
            raise RetryLater("the refund could not be settled")
        if current.status is Status.PENDING:
            final = replace(current, status=Status.SUCCEEDED, published=True)
            self._publisher.publish(refund_outcome(final))
            done = self._repo.finish_refund(final, self._now())
            if not done.won:
                count(Metric.DUPLICATE_DELIVERY)  # a concurrent delivery finished the same approval first
                return "duplicate"
            count(Metric.REFUND_SUCCEEDED)
            return "refunded:succeeded"
        if current.published:
            count(Metric.DUPLICATE_DELIVERY)  # a stale answer: the record moved on and its event went out
            return "duplicate"
        return self._publish_refund(current, "republished")

    def _publish_refund(self, record: RefundRecord, what: str) -> str:
        self._publisher.publish(refund_outcome(record))
        self._repo.mark_refund_published(record.refund_id)
        count(Metric.REFUND_SUCCEEDED if record.status is Status.SUCCEEDED else Metric.REFUND_FAILED)
        return f"{what}:{record.status.value.lower()}"
