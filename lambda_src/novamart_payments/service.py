"""Carries out the domain's decisions: conditional writes, gateway calls, outcome events.

Each ``handle`` reads the current state, asks ``domain`` what to do and does it. When a conditional write loses
a race, the loop decides again from the state that won, so concurrent deliveries converge on one outcome.
Exceptions that should make SQS redeliver the message (gateway outage, payment still in flight, EventBridge
refusal) propagate; everything final returns normally so the message is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from novamart_payments import domain
from novamart_payments.domain import (
    ACTION_DEADLINE,
    PaymentAction,
    PaymentRecord,
    PaymentTrigger,
    RefundAction,
    RefundRecord,
    RefundTrigger,
    Status,
)
from novamart_payments.gateway import (
    ChargeRequest,
    GatewayRateLimited,
    GatewayResult,
    Outcome,
    PaymentGateway,
    PaymentMethodRefused,
    RefundRequest,
)
from novamart_payments.observability import Metric, count, logger
from novamart_payments.outcomes import DEFAULT_REFUND_FAILURE, PaymentFailureCode
from novamart_payments.publisher import Publisher, action_required, payment_outcome, refund_outcome
from novamart_payments.repository import Repository
from novamart_payments.risk import ALLOW, RiskCheck, RiskDecision, RiskSubject
from novamart_payments.timestamps import plus, utc_now

_MAX_ROUNDS = 5
# How long one message may hold a PENDING refund's gateway lease: longer than any invocation can live (Lambda
# timeout), shorter than the queue's visibility timeout. A different message finds it expired on its redelivery; the
# holder's own redelivery takes it back at once (handle_refund).
REFUND_LEASE = timedelta(seconds=300)


class RetryLater(Exception):
    """The trigger cannot be finished now (e.g. its payment is still in flight); SQS redelivers it."""


def charge_request(trigger: PaymentTrigger) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=domain.charge_key(trigger.order_id),
        order_id=trigger.order_id,
        payment_id=domain.payment_id_for(trigger.order_id),
        customer_id=trigger.customer_id,
        correlation_id=trigger.meta.correlation_id,
        amount=trigger.amount,
        token=trigger.token,
        context=trigger.context,
    )


class PaymentService:
    def __init__(
        self,
        repository: Repository,
        publisher: Publisher,
        gateway: PaymentGateway,
        clock: Callable[[], str] = utc_now,
        action_deadline: timedelta = ACTION_DEADLINE,
        risk: RiskCheck | None = None,
    ) -> None:
        self._risk = risk  # None: no risk check configured, nothing stored (the service before issue 20)
        self._repo = repository
        self._publisher = publisher
        self._gateway = gateway
        self._now = clock
        self._action_deadline = action_deadline

    @property
    def repository(self) -> Repository:
        return self._repo

    @property
    def gateway(self) -> PaymentGateway:
        return self._gateway

    @property
    def publisher(self) -> Publisher:
        return self._publisher

    def now(self) -> str:
        return self._now()

    # --- payments ----------------------------------------------------------------------------------------

    def handle_payment(self, trigger: PaymentTrigger) -> str:
        """Take payment for the order at most once; returns what happened, for the log.

        The claim is the first act and costs no gateway request: a second trigger, or a redelivery of a finished
        order, is answered from the table alone. Only the claim's owner (the trigger whose event made the record)
        talks to the gateway, and only for the requests still missing: open the intent, store it, confirm it.
        """
        payment_id = domain.payment_id_for(trigger.order_id)
        request = charge_request(trigger)
        current: PaymentRecord | None = None
        for _ in range(_MAX_ROUNDS):
            decision = domain.decide_payment(current, trigger) if current is not None else None
            action = decision.action if decision is not None else PaymentAction.CLAIM_AND_CHARGE
            if action is PaymentAction.CLAIM_AND_CHARGE:
                claim = self._repo.claim_payment(payment_id, trigger, self._now())
                if claim.won and claim.current is not None:
                    return self._charge(claim.current, request)
                current = claim.current
            elif action is PaymentAction.RESUME_CHARGE:
                assert current is not None
                return self._charge(current, request)
            elif action is PaymentAction.PUBLISH_OUTCOME:
                assert current is not None
                return self._publish_payment(current, "republished")
            elif action is PaymentAction.BLOCK_CANCELLED:
                attached = self._repo.attach_blocked_payment(payment_id, trigger, self._now())
                if attached.won and attached.current is not None:
                    return self._publish_payment(attached.current, "blocked_cancelled")
                current = attached.current
            elif action in (PaymentAction.DUPLICATE, PaymentAction.IN_FLIGHT):
                count(Metric.DUPLICATE_DELIVERY)
                return "duplicate" if action is PaymentAction.DUPLICATE else "in_flight"
            else:  # REJECT_MISMATCH
                assert decision is not None
                count(Metric.DUPLICATE_REJECTED)
                logger.warning("payment trigger rejected", extra={"reason": decision.reason})
                return "rejected_mismatch"
        raise RetryLater(f"payment {payment_id} kept changing under concurrent deliveries")

    def _charge(self, pending: PaymentRecord, request: ChargeRequest) -> str:
        """Open the order's gateway attempt if it has none, store it, complete it, publish, then finish the record.

        Every delivery completes the one stored handle, and a handle succeeds at most once at the gateway, so a
        crash anywhere here (after the charge, before the publish, before the final write) never charges twice:
        the redelivery reads the handle's decision back and publishes the identical event (same id, same
        content) again. A final record therefore always means its outcome event went out.
        """
        handle = pending.intent_id
        if handle is None:
            verdict = self._risk_decision(pending, request)
            if verdict.blocked:
                # No gateway request: published as the risk code, dated from the claim (every publish identical).
                blocked = GatewayResult(Outcome.DECLINED, None, verdict.code, verdict.reason, pending.created_at)
                return self.settle_payment(pending, blocked)
            try:
                opened = self._gateway.begin_charge(request)
            except PaymentMethodRefused as refused:
                # A decline about the customer's token, the same on every delivery; dated from the claim so the
                # republished event is identical.
                return self.settle_payment(pending, replace(refused.result, processed_at=pending.created_at))
            stored = self._repo.store_intent(pending.payment_id, opened, self._now())
            if not stored.won:
                now = stored.current
                if now is None or now.intent_id != opened:
                    self._gateway.release_charge(opened)  # a gateway that replays keys hands ours back: keep it
                if now is None or now.intent_id is None or now.status is not Status.PENDING:
                    # Reconciliation closed it, or it finished meanwhile: the redelivery decides from what won.
                    raise RetryLater(f"payment {pending.payment_id} changed while its attempt was opened")
                opened = now.intent_id
            handle = opened
        result = self._gateway.complete_charge(handle, request)
        if result.outcome is Outcome.PENDING:  # pragma: no cover - adapters report an undecided charge as transient
            raise RetryLater(f"payment {pending.payment_id} is not decided yet")
        return self.settle_payment(replace(pending, intent_id=handle), result)

    def _risk_decision(self, pending: PaymentRecord, request: ChargeRequest) -> RiskDecision:
        """The order's risk decision: the one stored on the claim, or a new one stored there first.

        Only the claim's owner gets here, before its first gateway request. A delivery that loses the store (a
        concurrent copy of the trigger decided first) follows the stored decision, so every delivery of the order
        acts on one decision; the check itself counts the order at most once however often it is asked.
        """
        if pending.risk is not None:
            return pending.risk
        if self._risk is None:
            return ALLOW
        subject = RiskSubject(
            order_id=request.order_id,
            customer_id=request.customer_id,
            amount=request.amount,
            token=request.token,
            claimed_at=pending.created_at,
            context=request.context,
        )
        decision = self._risk.assess(subject)
        stored = self._repo.record_risk_decision(pending.payment_id, decision, self._now())
        if stored.won:
            return decision
        current = stored.current
        if current is None or current.risk is None or current.status is not Status.PENDING:
            raise RetryLater(f"payment {pending.payment_id} changed while its risk was assessed")
        return current.risk

    def settle_payment(
        self, record: PaymentRecord, result: GatewayResult, *, code: str | None = None, reason: str | None = None
    ) -> str:
        """Carry the gateway's answer about an unfinished payment into the record and onto the bus.

        The one place a payment is finished, whoever learned the answer: the trigger's delivery, a webhook, a
        cancellation, reconciliation. The event goes out first, then the conditional write moves the record
        forward; whoever loses that write published the same event (same id, content from the same record and
        the gateway's own timestamps), so consumers see one outcome. ``code``/``reason`` replace the gateway's
        for a decline the service itself caused (an expired authentication, an outage it gave up on).
        """
        return self._settle_payment(record, result, code, reason)[0]

    def _settle_payment(
        self, record: PaymentRecord, result: GatewayResult, code: str | None, reason: str | None
    ) -> tuple[str, PaymentRecord | None]:
        """``settle_payment``, also returning the payment as it now stands (None: unknown or still unfinished).

        ``record`` may be a stale copy, read before the gateway answered. An approval cannot contradict the record
        (an intent that succeeded was never cancelled or declined, so every settler of it finishes SUCCEEDED with
        the same charge), but a decline or a request for authentication about a payment that has moved on since
        (finished with another code, or already charged) must not speak: the record is read again before such an
        answer is published. Checked before publishing, so "publish, then finish" still holds: a final record
        means its event went out.
        """
        if result.outcome in (Outcome.PENDING, Outcome.NOT_STARTED):
            return "undecided", None
        if not result.approved:
            current = self._repo.get_payment(record.payment_id)
            if current is None or not current.status.unfinished:
                count(Metric.DUPLICATE_DELIVERY)  # a stale answer: the record moved on and its event went out
                return "duplicate", current
            if result.outcome is Outcome.REQUIRES_ACTION:
                if current.status is Status.REQUIRES_ACTION:
                    return "awaiting_customer", None
                return self._await_customer(record, result), None
        final = replace(
            record,
            status=Status.SUCCEEDED if result.approved else Status.FAILED,
            transaction_id=result.transaction_id,
            failure_code=None if result.approved else (code or result.code),
            failure_reason=None if result.approved else (reason or result.reason),
            processed_at=result.processed_at or record.created_at,
            published=True,
            radar_outcome=result.radar.outcome_type if result.radar else record.radar_outcome,
            radar_risk_level=result.radar.risk_level if result.radar else record.radar_risk_level,
            radar_risk_score=result.radar.risk_score if result.radar else record.radar_risk_score,
        )
        self._publisher.publish(payment_outcome(final))
        done = self._repo.finish_payment(final, self._now())
        if not done.won:
            count(Metric.DUPLICATE_DELIVERY)  # a concurrent delivery finished first, with the same outcome
            return "duplicate", done.current
        count(Metric.PAYMENT_SUCCEEDED if result.approved else Metric.PAYMENT_FAILED)
        return f"charged:{final.status.value.lower()}", done.current

    def _await_customer(self, pending: PaymentRecord, result: GatewayResult) -> str:
        """The bank wants the customer to authenticate: tell the storefront (payment.action_required), then move
        the record to REQUIRES_ACTION. Its deadline counts from the claim, so every publish of the event is the
        same."""
        waiting = replace(
            pending,
            status=Status.REQUIRES_ACTION,
            action_type=result.action or "other",
            action_expires_at=plus(pending.created_at, self._action_deadline),
            processed_at=result.processed_at or pending.created_at,
        )
        self._publisher.publish(action_required(waiting))
        moved = self._repo.require_action(waiting, self._now())
        if not moved.won:
            count(Metric.DUPLICATE_DELIVERY)
            return "duplicate"
        count(Metric.PAYMENT_ACTION_REQUIRED)
        logger.info("payment waits for the customer's authentication", extra={"action": waiting.action_type})
        return "requires_action"

    def _publish_payment(self, record: PaymentRecord, what: str) -> str:
        self._publisher.publish(payment_outcome(record))
        self._repo.mark_payment_published(record.payment_id)
        if record.status is Status.SUCCEEDED:
            count(Metric.PAYMENT_SUCCEEDED)
        else:
            count(Metric.PAYMENT_FAILED)
        return f"{what}:{record.status.value.lower()}"

    # --- refunds -----------------------------------------------------------------------------------------

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
        for _ in range(_MAX_ROUNDS):
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
