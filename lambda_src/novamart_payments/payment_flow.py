"""The payment flow of the service: claim the order, check its risk, charge it once, settle and publish.

Carries out the domain's decisions: conditional writes, gateway calls, outcome events. Each ``handle`` reads the
current state, asks ``domain`` what to do and does it. When a conditional write loses a race, the loop decides
again from the state that won, so concurrent deliveries converge on one outcome. Exceptions that should make SQS
redeliver the message (gateway outage, payment still in flight, EventBridge refusal) propagate; everything final
returns normally so the message is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from novamart_payments import domain
from novamart_payments.domain import (
    ACTION_DEADLINE,
    PaymentAction,
    PaymentRecord,
    PaymentTrigger,
    Status,
)
from novamart_payments.events import action_required, payment_outcome
from novamart_payments.gateway import (
    ChargeRequest,
    GatewayResult,
    Outcome,
    PaymentGateway,
    PaymentMethodRefused,
)
from novamart_payments.ports import EventPublisher, PaymentRepository
from novamart_payments.risk import ALLOW, RiskCheck, RiskDecision, RiskSubject
from novamart_payments.telemetry import Metric, count, logger
from novamart_payments.timestamps import plus, utc_now

MAX_ROUNDS = 5
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


class _MovedOn(Exception):
    """A concurrent copy of the trigger finished the payment while this delivery opened an attempt of its own
    (released): the delivery decides again from the record as it now stands, as its redelivery would, without
    waiting for one."""

    def __init__(self, current: PaymentRecord) -> None:
        super().__init__(current.payment_id)
        self.current = current


class PaymentFlow:
    """The service's ports and clock, and the payment flow; ``RefundFlow`` and the settlements build on it and
    ``service.PaymentService`` is all of them."""

    def __init__(
        self,
        repository: PaymentRepository,
        publisher: EventPublisher,
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
    def repository(self) -> PaymentRepository:
        return self._repo

    @property
    def gateway(self) -> PaymentGateway:
        return self._gateway

    @property
    def publisher(self) -> EventPublisher:
        return self._publisher

    def now(self) -> str:
        return self._now()

    def handle_payment(self, trigger: PaymentTrigger) -> str:
        """Take payment for the order at most once; returns what happened, for the log.

        The claim is the first act and costs no gateway request: a second trigger, or a redelivery of a finished
        order, is answered from the table alone. Only the claim's owner (the trigger whose event made the record)
        talks to the gateway, and only for the requests still missing: open the intent, store it, confirm it.
        """
        payment_id = domain.payment_id_for(trigger.order_id)
        request = charge_request(trigger)
        current: PaymentRecord | None = None
        for _ in range(MAX_ROUNDS):
            decision = domain.decide_payment(current, trigger) if current is not None else None
            action = decision.action if decision is not None else PaymentAction.CLAIM_AND_CHARGE
            if action is PaymentAction.CLAIM_AND_CHARGE:
                claim = self._repo.claim_payment(payment_id, trigger, self._now())
                if claim.won and claim.current is not None:
                    try:
                        return self._charge(claim.current, request)
                    except _MovedOn as moved:
                        current = moved.current
                else:
                    current = claim.current
            elif action is PaymentAction.RESUME_CHARGE:
                assert current is not None
                try:
                    return self._charge(current, request)
                except _MovedOn as moved:
                    current = moved.current
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
                if now is not None and now.status is not Status.PENDING:
                    raise _MovedOn(now)  # finished meanwhile: decided again from what won, now
                if now is None or now.intent_id is None:
                    # Reconciliation closed it (no handle may be stored any more): the redelivery decides.
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
