"""Every status write guarded, every guard proven (issue 24): the races and stale answers that a happy-path suite
never drives, each against the real Stripe adapter and localstripe, asserting the record, what was published and
the money at the gateway.

Each test here is named by a mutant in ``tools/mutants.py``: removing its guard in a copy turns it red.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from novamart_payments import domain
from novamart_payments.domain import PaymentTrigger, RefundTrigger, Status
from novamart_payments.envelope import checked_event, payment_trigger, refund_trigger
from novamart_payments.gateway import GatewayResult, Outcome
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.reconciliation import Ages
from novamart_payments.repository import Repository
from novamart_payments.service import PaymentService, charge_request

from tests.integration.test_later_outcomes import authenticate, deliver, event_about, intent_of, record
from tests.integration.test_semantics import Crash, crash_once
from tests.support.handler_calls import invoke
from tests.support.integration_aws import PAYMENTS, REFUNDS, Aws
from tests.support.stripe_movements import card, charges, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.stripe_faults import CONFIRM

NOW = Ages(pending_after=timedelta(0), action_after=timedelta(0))
EVERY = 10_000  # a reconciliation pass over every unfinished payment of the session, not only the oldest 25


def published(aws: Aws, order: str) -> list[dict[str, Any]]:
    """What was published for the order, in order. An identical republish (same id and same content: the
    at-least-once duplicate consumers drop by id) counts once; an event that differs in anything counts."""
    seen: set[str] = set()
    found = []
    for event in aws.published(order):
        content = json.dumps(event["detail"], sort_keys=True)
        if content not in seen:
            seen.add(content)
            found.append(event)
    return found


def kinds(aws: Aws, order: str) -> list[str]:
    return [e["detail-type"] for e in published(aws, order)]


def _checked(event: dict[str, Any]) -> dict[str, Any]:
    return checked_event(json.dumps(event), frozenset({event["detail-type"]}))


def pay_trigger(event: dict[str, Any]) -> PaymentTrigger:
    return payment_trigger(_checked(event))


def ref_trigger(event: dict[str, Any]) -> RefundTrigger:
    return refund_trigger(_checked(event))


def refunded(order: str) -> list[tuple[int, str]]:
    """Refunds for the order at the gateway, with their status (a settled-failed refund moved no money)."""
    return sorted((int(r.amount), str(r.status)) for r in stripe_stack().stripe.refunds(order))


def refunded_amount(aws: Aws, order: str) -> int:
    return int(record(aws, order)["refundedAmount"]["N"])


def the_refund(aws: Aws, order: str) -> dict[str, Any]:
    [item] = aws.refund_items(order)
    return item


def pending_refund(aws: Aws, svc: PaymentService, minor_units: int) -> tuple[str, domain.RefundRecord]:
    """A paid order whose refund the gateway accepted but settles later: the refund record is PENDING."""
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units, "USD", token=card("pending_refund"))) == []
    assert invoke(refund_handler, refund_event(order)) == []
    pending = svc.repository.get_refund(the_refund(aws, order)["refundId"]["S"])
    assert pending is not None and pending.status is Status.PENDING and pending.transaction_id
    return order, pending


def settle_at_gateway(transaction: str, status: str) -> None:
    """The pending refund settles at Stripe and its webhook is delivered."""
    stripe_stack().stripe.settle_refund(transaction, status)
    assert deliver(event_about(transaction, "refund.updated"))[0] == 200


def later(answer: Outcome, transaction: str | None, code: str | None = None) -> GatewayResult:
    """A gateway answer obtained earlier and acted on late (a slow delivery, a retried webhook)."""
    return GatewayResult(answer, transaction, code, "stale answer" if code else None, "2026-11-26T10:00:00.000Z")


def elsewhere(work: Callable[[], str], expected: str) -> None:
    """Run ``work`` as another function instance would, on a thread of its own (its own AWS call budget)."""
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(work()))
    worker.start()
    worker.join(timeout=60)
    assert done == [expected]


class GatewayHook:
    """The production adapter, with something happening in the world right after one status read of ``handle``:
    the race between a reader and the record it read."""

    def __init__(self, real: Any, handle: str, meanwhile: Callable[[], None]) -> None:
        self._real, self._handle, self._meanwhile = real, handle, meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def charge_status(self, handle: str) -> GatewayResult:
        answer: GatewayResult = self._real.charge_status(handle)
        if handle == self._handle and self._meanwhile is not None:
            happen, self._meanwhile = self._meanwhile, None  # type: ignore[assignment]
            happen()
        return answer


# --- refunds -------------------------------------------------------------------------------------------------


def test_a_late_decline_cannot_fail_a_refund_that_succeeded(aws: Aws, svc: PaymentService) -> None:
    """Row 1: the decline, read earlier about the refund while it was PENDING, arrives after it succeeded."""
    order, stale = pending_refund(aws, svc, 2500)
    assert stale.transaction_id is not None
    settle_at_gateway(stale.transaction_id, "succeeded")
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]
    assert svc.settle_refund(stale, later(Outcome.DECLINED, stale.transaction_id, "refund_declined")) == ("duplicate")
    assert the_refund(aws, order)["status"]["S"] == "SUCCEEDED" and refunded_amount(aws, order) == 2500
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]  # nothing contradicts the record
    # The capture stays fully refunded: another refund request is refused, the customer is refunded once.
    assert invoke(refund_handler, refund_event(order, 2500, request_id="second")) == []
    assert published(aws, order)[-1]["detail"]["data"]["code"] == "exceeds_refundable"
    assert refunded(order) == [(2500, "succeeded")]


def test_a_stale_approval_of_a_declined_refund_publishes_nothing(aws: Aws, svc: PaymentService) -> None:
    """Row 5 and the stale-answer publish: an approval read while the refund was PENDING, acted on after the
    gateway declined it, neither marks it SUCCEEDED nor publishes refund.succeeded."""
    order, stale = pending_refund(aws, svc, 2600)
    assert stale.transaction_id is not None
    settle_at_gateway(stale.transaction_id, "failed")
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]
    assert refunded_amount(aws, order) == 0  # the reservation was given back
    declined = the_refund(aws, order)
    assert svc.settle_refund(stale, later(Outcome.APPROVED, stale.transaction_id)) == "duplicate"
    assert the_refund(aws, order) == declined and declined["status"]["S"] == "FAILED"  # not one attribute moved
    assert refunded_amount(aws, order) == 0
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]
    # The record and the money agree: the capture is still refundable, once.
    assert invoke(refund_handler, refund_event(order, 2600, request_id="again")) == []
    assert refunded(order) == [(2600, "failed"), (2600, "pending")]
    assert refunded_amount(aws, order) == 2600


def test_the_final_refund_write_only_finishes_a_pending_refund(aws: Aws, svc: PaymentService) -> None:
    """Row 5, the last line: a stale copy's final write cannot mark a declined refund SUCCEEDED."""
    order, stale = pending_refund(aws, svc, 2700)
    assert stale.transaction_id is not None
    settle_at_gateway(stale.transaction_id, "failed")
    repo = Repository(PAYMENTS, REFUNDS)
    late = repo.finish_refund(
        replace(stale, status=Status.SUCCEEDED, published=True),
        "2026-11-26T12:00:00.000Z",
    )
    assert not late.won and late.current is not None and late.current.status is Status.FAILED
    assert the_refund(aws, order)["status"]["S"] == "FAILED" and refunded_amount(aws, order) == 0
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]


def test_a_decline_after_the_approval_was_recorded_finishes_the_approval(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race inside settle_refund: the approval is recorded, its delivery dies before refund.succeeded goes
    out, then a decline arrives. The first recorded answer is the one published; the money refunded at the
    gateway stays counted on the payment."""
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 3000, "USD", token=card("visa"))) == []
    crash_once(svc.repository, "approve_refund", monkeypatch, after=True)
    with pytest.raises(Crash):
        invoke(refund_handler, refund_event(order))
    approved = svc.repository.get_refund(the_refund(aws, order)["refundId"]["S"])
    assert approved is not None and approved.status is Status.PENDING and approved.approved
    assert kinds(aws, order) == ["payment.succeeded"]
    assert svc.settle_refund(approved, later(Outcome.DECLINED, approved.transaction_id, "refund_declined")) == (
        "refunded:succeeded"
    )
    assert the_refund(aws, order)["status"]["S"] == "SUCCEEDED" and refunded_amount(aws, order) == 3000
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]
    assert invoke(refund_handler, refund_event(order, 3000, request_id="second")) == []
    assert refunded(order) == [(3000, "succeeded")]


# --- payments ------------------------------------------------------------------------------------------------


def test_a_cancel_marker_cannot_overwrite_a_payment_that_landed_first(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 2: the refund trigger reads no payment; before it writes its cancel marker, the payment trigger claims
    and charges. The marker must lose, and the refund then refunds the charge."""
    order = new_order()
    payment = payment_event(order, 4100, "USD", token=card("visa"))
    real = svc.repository.block_payment

    def payment_lands_first(*args: Any, **kwargs: Any) -> Any:
        elsewhere(lambda: svc.handle_payment(pay_trigger(payment)), "charged:succeeded")
        return real(*args, **kwargs)

    monkeypatch.setattr(svc.repository, "block_payment", payment_lands_first)
    assert invoke(refund_handler, refund_event(order)) == []
    item = record(aws, order)
    assert item["status"]["S"] == "SUCCEEDED" and "cancelledBeforePayment" not in item
    assert item["intentId"]["S"] and refunded_amount(aws, order) == 4100
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]
    assert charges(order) == [4100] and refunded(order) == [(4100, "succeeded")]


def test_the_losing_intent_of_a_claim_race_cannot_settle_the_order(aws: Aws, svc: PaymentService) -> None:
    """Row 3: a second delivery opened its own intent (carrying the order's metadata), lost the claim and cancelled
    it. Stripe's payment_intent.canceled about it must not fail the order while the stored intent can still be
    completed by the customer."""
    order = new_order()
    trigger = payment_event(order, 4200, "EUR", token=card("three_d_secure"))
    assert invoke(payment_handler, trigger) == []
    stored = intent_of(aws, order)
    losing = svc.gateway.begin_charge(charge_request(pay_trigger(trigger)))
    svc.gateway.release_charge(losing)  # what the claim's loser does with its own handle
    assert stripe_stack().stripe.client().v1.payment_intents.retrieve(losing).status == "canceled"
    # localstripe sends no webhook for a cancel: the event Stripe sends, about the losing intent as it now is.
    canceled = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "payment_intent.canceled",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": stripe_stack().stripe.client().v1.payment_intents.retrieve(losing).to_dict()},
    }
    assert deliver(canceled) == (200, "not_ours")
    assert record(aws, order)["status"]["S"] == "REQUIRES_ACTION" and record(aws, order)["intentId"]["S"] == stored
    assert kinds(aws, order) == ["payment.action_required"]
    authenticate(stored, success=True)
    assert deliver(event_about(stored, "payment_intent.succeeded")) == (200, "charged:succeeded")
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"]
    assert record(aws, order)["status"]["S"] == "SUCCEEDED" and charges(order) == [4200]


def test_a_customer_who_authenticates_as_the_deadline_passes_is_charged_not_failed(
    aws: Aws, svc: PaymentService
) -> None:
    """Row 4: reconciliation reads the intent still waiting past its deadline; the customer completes 3-D Secure
    before the cancel, so the cancel answers "succeeded": the payment succeeds, nothing says it failed."""
    impatient = PaymentService(svc.repository, svc.publisher, svc.gateway, action_deadline=timedelta(0))
    order = new_order()
    assert impatient.handle_payment(pay_trigger(payment_event(order, 1900, "GBP", token=card("three_d_secure")))) == (
        "requires_action"
    )
    intent = intent_of(aws, order)
    racing = GatewayHook(svc.gateway, intent, lambda: authenticate(intent, success=True))
    PaymentService(svc.repository, svc.publisher, racing).reconcile(NOW, batch=EVERY)  # type: ignore[arg-type]
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"]
    assert record(aws, order)["status"]["S"] == "SUCCEEDED" and "openStatus" not in record(aws, order)
    assert charges(order) == [1900]


def test_a_pass_before_the_default_deadline_leaves_the_customer_time(aws: Aws, svc: PaymentService) -> None:
    """Row 6: with the default 3-D Secure deadline, a reconciliation pass soon after the request cancels nothing;
    the customer then authenticates and is charged once."""
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 2100, "USD", token=card("three_d_secure"))) == []
    intent = intent_of(aws, order)
    svc.reconcile(NOW, batch=EVERY)
    assert record(aws, order)["status"]["S"] == "REQUIRES_ACTION"
    assert kinds(aws, order) == ["payment.action_required"]
    assert stripe_stack().stripe.client().v1.payment_intents.retrieve(intent).status == "requires_action"
    authenticate(intent, success=True)
    assert deliver(event_about(intent, "payment_intent.succeeded")) == (200, "charged:succeeded")
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"] and charges(order) == [2100]


def test_a_stale_decline_of_a_payment_that_moved_on_publishes_nothing(aws: Aws, svc: PaymentService) -> None:
    """The stale-answer publish, for payments: reconciliation reads a payment waiting past its deadline; before it
    cancels, the order is cancelled (payment.failed ``order_cancelled``). Its own cancel then answers "canceled":
    that answer is about a payment that has moved on, and must not publish a second, different payment.failed."""
    impatient = PaymentService(svc.repository, svc.publisher, svc.gateway, action_deadline=timedelta(0))
    order = new_order()
    impatient.handle_payment(pay_trigger(payment_event(order, 2200, "USD", token=card("three_d_secure"))))
    intent = intent_of(aws, order)

    def order_cancelled() -> None:
        assert svc.handle_refund(ref_trigger(refund_event(order))) == "refused:failed"

    racing = GatewayHook(svc.gateway, intent, order_cancelled)
    PaymentService(svc.repository, svc.publisher, racing).reconcile(NOW, batch=EVERY)  # type: ignore[arg-type]
    assert kinds(aws, order) == ["payment.action_required", "payment.failed", "refund.failed"]
    assert [e["detail"]["data"]["code"] for e in published(aws, order)[1:]] == [
        "order_cancelled",
        "payment_not_captured",
    ]
    item = record(aws, order)
    assert item["status"]["S"] == "FAILED" and item["failureCode"]["S"] == "order_cancelled"
    assert charges(order) == []


def test_a_stale_decline_after_a_charge_publishes_nothing(aws: Aws, svc: PaymentService) -> None:
    """The stale-answer publish on the payment function's own path: a decline about the payment read while it was
    PENDING (a slow delivery), acted on after a redelivery charged it, publishes no payment.failed."""
    order = new_order()
    trigger = payment_event(order, 2300, "USD", token=card("visa"))
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, order_id=order)
    assert len(invoke(payment_handler, trigger)) == 1  # the confirm failed: the payment stays PENDING
    stale = svc.repository.get_payment(domain.payment_id_for(order))
    assert stale is not None and stale.status is Status.PENDING
    assert invoke(payment_handler, trigger) == []
    assert svc.settle_payment(stale, later(Outcome.DECLINED, stale.intent_id, "card_declined")) == "duplicate"
    assert kinds(aws, order) == ["payment.succeeded"] and record(aws, order)["status"]["S"] == "SUCCEEDED"
    assert charges(order) == [2300]


# --- the sweep: every other conditional write, driven with a stale copy -------------------------------------
# Each write below is reached in production only by a delivery that decided on what it read; here the copy it
# decided on is stale (or the item is gone), and the write's condition is all that stands between it and the table.

LATER_TIME = "2026-11-26T12:00:00.000Z"


def paid(aws: Aws, minor_units: int = 5000) -> tuple[str, domain.PaymentRecord]:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units, "USD", token=card("visa"))) == []
    payment = Repository(PAYMENTS, REFUNDS).get_payment(domain.payment_id_for(order))
    assert payment is not None and payment.status is Status.SUCCEEDED
    return order, payment


def test_a_late_payment_trigger_cannot_attach_itself_to_a_real_payment(aws: Aws) -> None:
    """attach_blocked_payment fills only a cancel marker that has no trigger yet: a delivery that read the marker
    before another trigger attached (or a payment) must not rewrite the amount or customer."""
    order, payment = paid(aws, 5100)
    late = pay_trigger(payment_event(order, 9900, "USD", customer_id="cus-someone-else"))
    attached = Repository(PAYMENTS, REFUNDS).attach_blocked_payment(payment.payment_id, late, LATER_TIME)
    assert not attached.won
    item = record(aws, order)
    assert (
        item["amount"]["N"] == "5100" and item["customerId"]["S"] == "cus-1001" and item["status"]["S"] == "SUCCEEDED"
    )
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [5100]


def test_a_dispute_is_noted_once_even_when_two_notices_race(aws: Aws) -> None:
    """note_dispute: two notices about one dispute both read it as new; only the first may count it."""
    order, payment = paid(aws, 5200)
    repo = Repository(PAYMENTS, REFUNDS)
    assert repo.note_dispute(payment.payment_id, "dp_race") is True
    assert repo.note_dispute(payment.payment_id, "dp_race") is False
    assert repo.note_dispute(domain.payment_id_for(new_order()), "dp_race") is False  # no payment: nothing made
    assert record(aws, order)["disputeIds"]["SS"] == ["dp_race"]


def test_marking_an_outcome_published_never_creates_a_record(aws: Aws) -> None:
    """mark_payment_published / mark_refund_published: a mark for an item that is not there creates nothing."""
    order = new_order()
    repo = Repository(PAYMENTS, REFUNDS)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        repo.mark_payment_published(domain.payment_id_for(order))
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        repo.mark_refund_published(domain.refund_id_for(f"refund:{order}"))
    assert aws.payment_items(order) == [] and aws.refund_items(order) == []


def test_a_refund_cannot_be_reserved_against_a_payment_that_did_not_succeed(aws: Aws) -> None:
    """reserve_refund's payment condition: a copy of the payment claiming SUCCEEDED (stale, or the marker that
    replaced it) reserves nothing when the stored payment is not SUCCEEDED."""
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 5300, "USD", token=card("declined"))) == []
    repo = Repository(PAYMENTS, REFUNDS)
    failed = repo.get_payment(domain.payment_id_for(order))
    assert failed is not None and failed.status is Status.FAILED
    as_if_paid = replace(failed, status=Status.SUCCEEDED)
    refund = _refund_for(order, as_if_paid, 5300)
    assert not repo.reserve_refund(as_if_paid, refund, LATER_TIME, LATER_TIME, "me")
    assert aws.refund_items(order) == [] and refunded_amount(aws, order) == 0


def test_a_refund_is_reserved_once_however_many_deliveries_decided_to(aws: Aws) -> None:
    """reserve_refund's refund condition: two deliveries that both read "no refund yet" reserve it once."""
    order, payment = paid(aws, 5400)
    repo = Repository(PAYMENTS, REFUNDS)
    refund = _refund_for(order, payment, 1000)
    assert repo.reserve_refund(payment, refund, LATER_TIME, LATER_TIME, "first")
    assert not repo.reserve_refund(payment, refund, LATER_TIME, LATER_TIME, "second")
    assert refunded_amount(aws, order) == 1000 and len(aws.refund_items(order)) == 1


def test_a_settled_refund_is_not_noted_pending_again(aws: Aws, svc: PaymentService) -> None:
    """note_refund_pending: a "pending" answer that arrives after the refund settled changes nothing."""
    order, stale = pending_refund(aws, svc, 5500)
    assert stale.transaction_id is not None
    settle_at_gateway(stale.transaction_id, "succeeded")
    before = the_refund(aws, order)
    assert svc.settle_refund(stale, later(Outcome.PENDING, "re_stale")) == "duplicate"
    assert the_refund(aws, order) == before
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


def test_a_refund_failure_is_recorded_once(aws: Aws) -> None:
    """record_refund_failure: a refusal recorded by one delivery is not overwritten by another's."""
    order = new_order()
    repo = Repository(PAYMENTS, REFUNDS)
    refund = _refund_for(order, None, 100, failed="no_payment")
    assert repo.record_refund_failure(refund).won
    again = repo.record_refund_failure(replace(refund, failure_code="other"))
    assert not again.won and again.current is not None and again.current.failure_code == "no_payment"


def _refund_for(
    order: str, payment: domain.PaymentRecord | None, minor_units: int, failed: str | None = None
) -> domain.RefundRecord:
    return domain.RefundRecord(
        refund_id=domain.refund_id_for(f"refund:{order}:{uuid.uuid4()}"),
        order_id=order,
        status=Status.FAILED if failed else Status.PENDING,
        amount=domain.Money(minor_units, "USD"),
        payment_id=payment.payment_id if payment else None,
        customer_id=payment.customer_id if payment else None,
        reason="customer cancelled",
        failure_code=failed,
        failure_reason="test" if failed else None,
        correlation_id="corr-sweep",
        idempotency_key=f"refund:{order}",
        created_at=LATER_TIME,
        updated_at=LATER_TIME,
    )


def test_a_decline_whose_delivery_died_before_publishing_is_published_by_the_next_notice(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash safety of a decline (written, then published): the webhook delivery that failed the refund dies
    before refund.failed goes out; Stripe's next event about the refund publishes the record's own outcome."""
    order, pending = pending_refund(aws, svc, 2800)
    assert pending.transaction_id is not None
    stripe_stack().stripe.settle_refund(pending.transaction_id, "failed")
    crash_once(svc.repository, "fail_reserved_refund", monkeypatch, after=True)
    with pytest.raises(Crash):
        deliver(event_about(pending.transaction_id, "refund.updated"))
    assert the_refund(aws, order)["status"]["S"] == "FAILED" and kinds(aws, order) == ["payment.succeeded"]
    assert deliver(event_about(pending.transaction_id, "charge.refund.updated")) == (200, "republished:failed")
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]
    assert the_refund(aws, order)["published"]["BOOL"] is True and refunded_amount(aws, order) == 0
    assert deliver(event_about(pending.transaction_id, "charge.refund.updated")) == (200, "replayed")
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]
