"""What on-call reads is true (issue 22): a webhook about an object Stripe does not have is acknowledged, the
reconciliation report counts each outcome by what it was, one refund change is published once however many
notifications describe it, and a refund left PENDING is finished by reconciliation.

Same harness as ``test_later_outcomes``: the real handlers and Stripe adapter against moto and localstripe, the
tests playing Stripe's side with signed events, money counted per order at the gateway.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from novamart_payments.envelope import checked_event, payment_trigger
from novamart_payments.gateway import GatewayResult, TransientGatewayError
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.reconciliation import Ages
from novamart_payments.repository import Repository
from novamart_payments.service import PaymentService
from novamart_payments.timestamps import plus, utc_now

from tests.integration.test_later_outcomes import deliver, event_about, kinds, settle_refund, stripe_stack
from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.service_aws import create_tables
from tests.support.stripe_movements import card, charges, refunds
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.stripe_faults import CONFIRM

NOW = Ages(pending_after=timedelta(0), action_after=timedelta(0))


def metric_total(out: str, name: str) -> float:
    """The sum of one metric over every EMF document the functions printed."""
    total = 0.0
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        doc = json.loads(line)
        value = doc.get(name)
        total += sum(value) if isinstance(value, list) else (value or 0)
    return total


def error_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if '"level":"ERROR"' in line.replace(" ", "")]


# --- a permanent answer from the gateway is acknowledged, never retried -----------------------------------


def test_a_signed_event_about_an_intent_stripe_does_not_have_is_acknowledged_and_counted(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    order = new_order()
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "metadata": {"orderId": order}}
        },
    }
    capsys.readouterr()
    assert deliver(event) == (200, "unknown_object")  # Stripe stops retrying; nothing to settle
    out = capsys.readouterr().out
    assert error_lines(out) == []
    assert metric_total(out, "WebhookUnknownObject") == 1
    assert deliver(event) == (200, "replayed")  # acknowledged means handled: a resend changes nothing
    assert aws.payment_items(order) == [] and kinds(aws, order) == []


# --- the reconciliation report says what happened -----------------------------------------------------------


@pytest.fixture
def private(aws: Aws, svc: PaymentService) -> Iterator[PaymentService]:
    """A service on tables of its own, so one pass sees only this test's records (the shared tables hold other
    tests' unfinished ones)."""
    suffix = uuid.uuid4().hex[:8]
    payments, refund_table = f"it22-payments-{suffix}", f"it22-refunds-{suffix}"
    create_tables(aws.dynamodb, payments, refund_table)
    yield PaymentService(Repository(payments, refund_table, aws.dynamodb), svc.publisher, svc.gateway)
    for table in (payments, refund_table):
        aws.dynamodb.delete_table(TableName=table)


def _trigger(event: dict[str, Any]) -> Any:
    return payment_trigger(checked_event(json.dumps(event), frozenset({event["detail-type"]})))


def test_the_report_counts_an_expired_authentication_and_an_abandoned_outage_as_what_they_were(
    aws: Aws, private: PaymentService
) -> None:
    impatient = PaymentService(private.repository, private.publisher, private.gateway, action_deadline=timedelta(0))
    waiting = new_order()
    assert impatient.handle_payment(_trigger(payment_event(waiting, 1800, "GBP", token=card("three_d_secure")))) == (
        "requires_action"
    )
    outage = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, order_id=outage)
    with pytest.raises(TransientGatewayError):  # its last delivery: the message goes to the DLQ after this
        private.handle_payment(_trigger(payment_event(outage, 3100, "USD", token=card("visa"))))

    report = private.reconcile(NOW)

    assert report == {
        "cancelled:authentication_expired": 1,
        "cancelled:gateway_unavailable": 1,
        "oldest_unfinished_seconds": 0,
    }
    assert kinds(aws, outage) == ["payment.failed"] and charges(outage) == []
    assert kinds(aws, waiting) == ["payment.action_required", "payment.failed"] and charges(waiting) == []
    assert private.reconcile(NOW) == {"oldest_unfinished_seconds": 0}  # a second pass finds nothing to do


# --- one refund change, one outcome -------------------------------------------------------------------------


class _Meeting:
    """A gateway whose refund reads wait (a little) for a second concurrent reader: two notifications settling
    the same refund at once both get past their reads, as they can in production."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._barrier = threading.Barrier(2, timeout=1.5)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def refund_status(self, transaction_id: str) -> GatewayResult:
        with contextlib.suppress(threading.BrokenBarrierError):  # alone: the other one was told to come back
            self._barrier.wait()
        result: GatewayResult = self._inner.refund_status(transaction_id)
        return result


def test_one_refund_change_described_by_two_notifications_is_published_and_counted_once(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 2500, "USD", token=card("pending_refund"))) == []
    assert invoke(refund_handler, refund_event(order)) == []
    [item] = aws.refund_items(order)
    transaction = item["transactionId"]["S"]
    settle_refund(transaction, "succeeded")
    both = [event_about(transaction, "refund.updated"), event_about(transaction, "charge.refund.updated")]
    monkeypatch.setattr(svc, "_gateway", _Meeting(svc.gateway))
    capsys.readouterr()

    with ThreadPoolExecutor(2) as pool:  # Stripe delivers both events at once
        answers = list(pool.map(deliver, both))

    out = capsys.readouterr().out
    assert sorted(answers) == [(200, "refunded:succeeded"), (409, "in_progress")]
    assert [k for k in kinds(aws, order) if k.startswith("refund.")] == ["refund.succeeded"]
    assert metric_total(out, "RefundSucceeded") == 1
    assert error_lines(out) == []
    deferred, done = (both[0], both[1]) if answers[0][0] == 409 else (both[1], both[0])
    assert deliver(deferred) == (200, "duplicate")  # Stripe's retry of the deferred one finds it settled
    assert deliver(done) == (200, "replayed")
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"] and refunds(order) == [2500]


# --- a refund left PENDING is finished by reconciliation ----------------------------------------------------


def _later(private: PaymentService, minutes: int) -> PaymentService:
    """The same service, its clock ``minutes`` ahead: the dead-lettered delivery's gateway lease has run out."""
    return PaymentService(
        private.repository,
        private.publisher,
        private.gateway,
        clock=lambda: plus(utc_now(), timedelta(minutes=minutes)),
    )


@pytest.mark.parametrize("reached_stripe", [True, False], ids=["refund-reached-stripe", "refund-never-reached"])
def test_a_refund_left_pending_by_a_dead_lettered_trigger_ends_in_one_outcome_after_one_pass(
    aws: Aws, private: PaymentService, reached_stripe: bool
) -> None:
    from novamart_payments.envelope import refund_trigger

    order = new_order()
    assert private.handle_payment(_trigger(payment_event(order, 4000, "USD", token=card("visa")))) == (
        "charged:succeeded"
    )
    cancel = refund_event(order)
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1)
    with pytest.raises(TransientGatewayError):  # its last delivery: the trigger is dead-lettered
        private.handle_refund(refund_trigger(checked_event(json.dumps(cancel), frozenset({cancel["detail-type"]}))))
    [pending] = [r for r in private.repository.unfinished_refunds(plus(utc_now(), timedelta(minutes=1)), 25)]
    assert pending.order_id == order and pending.transaction_id is None
    if reached_stripe:  # the request got through and only its answer was lost
        payment = private.repository.get_payment(pending.payment_id or "")
        assert payment is not None and payment.intent_id is not None
        stripe_stack().stripe.client().v1.refunds.create(
            params={"payment_intent": payment.intent_id, "amount": 4000, "metadata": {"refundId": pending.refund_id}}
        )

    # Not old enough for this pass: left alone, but the oldest-unfinished age (alarmed) counts it.
    waiting = _later(private, 6).reconcile(Ages(timedelta(hours=1), timedelta(hours=1)))
    assert set(waiting) == {"oldest_unfinished_seconds"} and waiting["oldest_unfinished_seconds"] >= 360

    report = _later(private, 6).reconcile(NOW)

    expected = "refunded" if reached_stripe else "refund_failed:refund_declined"
    assert report == {expected: 1, "oldest_unfinished_seconds": 0}
    outcome = "refund.succeeded" if reached_stripe else "refund.failed"
    assert kinds(aws, order) == ["payment.succeeded", outcome]
    assert refunds(order) == ([4000] if reached_stripe else [])  # the money at Stripe matches the event
    payment = private.repository.get_payment(pending.payment_id or "")
    assert payment is not None and payment.refunded_minor_units == (4000 if reached_stripe else 0)
    assert _later(private, 6).reconcile(NOW) == {"oldest_unfinished_seconds": 0}
    assert kinds(aws, order) == ["payment.succeeded", outcome]
