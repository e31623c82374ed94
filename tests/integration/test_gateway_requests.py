"""Gateway requests per order, counted where they are spent: at the local Stripe's proxy (issue 19).

The gateway's rate limit is the service's real limit, so a request spent on a duplicate is a payment someone else
waits for. The claim is the first act of a payment trigger: a new order costs two requests (open the intent,
confirm it), its second trigger and any redelivery of a finished order cost none, a transient failure costs only
the request that failed, and a notification about a record that is already final is answered from the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.reconciliation import Ages
from novamart_payments.service import PaymentService

from tests.integration.test_later_outcomes import authenticate, deliver, event_about, intent_of, kinds, svc_of
from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.service_aws import reset_process_state
from tests.support.stripe_movements import card, charges, refunds, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.stripe_faults import CONFIRM

CREATE = ("POST", "/v1/payment_intents")
NOW = Ages(pending_after=timedelta(0), action_after=timedelta(0))


def requests(order: str) -> list[tuple[str, str]]:
    """The order's requests at the gateway, intent ids replaced by ``{pi}`` so they compare across runs."""
    return [(m, _generic(p)) for m, p in stripe_stack().faults.requests_for(order)]


def _generic(path: str) -> str:
    parts = path.split("/")
    return "/".join("{pi}" if part.startswith("pi_") else part for part in parts)


CONFIRMED = [CREATE, ("POST", "/v1/payment_intents/{pi}/confirm")]


def test_a_new_order_costs_two_requests_its_second_trigger_and_redeliveries_none(aws: Aws) -> None:
    order = new_order()
    reserved = payment_event(order, detail_type="inventory.reserved")
    ready = payment_event(order, detail_type="order.ready_for_payment")
    assert invoke(payment_handler, reserved) == []
    assert requests(order) == CONFIRMED
    assert invoke(payment_handler, ready) == []  # the second trigger finds the claim
    assert invoke(payment_handler, reserved) == []  # a redelivery of the finished order
    assert invoke(payment_handler, ready) == []
    assert requests(order) == CONFIRMED
    assert charges(order) == [4999] and kinds(aws, order) == ["payment.succeeded"]


def test_one_transient_failure_on_confirm_costs_one_request_more(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=500, order_id=order)
    assert len(invoke(payment_handler, event)) == 1
    assert invoke(payment_handler, event) == []  # resumes its own record: confirms the stored intent, no new one
    assert requests(order) == [*CONFIRMED, CONFIRMED[1]]
    assert charges(order) == [4999]


def test_a_second_trigger_while_the_first_is_in_flight_spends_nothing_and_is_acknowledged(aws: Aws) -> None:
    order = new_order()
    reserved = payment_event(order, detail_type="inventory.reserved")
    ready = payment_event(order, detail_type="order.ready_for_payment")
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=503, order_id=order)
    assert len(invoke(payment_handler, reserved)) == 1  # the claim's owner waits for its redelivery
    assert invoke(payment_handler, ready) == []  # acknowledged: the owner's message finishes the order
    assert requests(order) == CONFIRMED
    assert invoke(payment_handler, reserved) == []
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [4999]


def test_an_outage_on_create_leaves_a_record_reconciliation_fails_with_nothing_charged(aws: Aws) -> None:
    order = new_order()
    trigger = payment_event(order, 2700, "USD", token=card("visa"))
    stripe_stack().faults.fail_next("POST", r"/v1/payment_intents$", times=3, status=503)
    for _ in range(3):  # every receive fails: the message dead-letters, but the claim stays
        assert len(invoke(payment_handler, trigger)) == 1
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "PENDING" and "intentId" not in item
    svc_of().reconcile(NOW)
    assert kinds(aws, order) == ["payment.failed"]
    assert aws.published(order)[0]["detail"]["data"]["code"] == "gateway_unavailable"
    assert requests(order) == [CREATE] * 3  # reconciliation needed no request: no attempt was ever stored
    assert invoke(payment_handler, trigger) == []  # the DLQ redriven later: nothing moves, nothing is asked
    assert requests(order) == [CREATE] * 3
    assert kinds(aws, order) == ["payment.failed"] and charges(order) == []


def test_a_late_attempt_cannot_be_stored_once_reconciliation_closed_the_record(aws: Aws) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", r"/v1/payment_intents$", times=1, status=503)
    assert len(invoke(payment_handler, payment_event(order))) == 1
    svc = svc_of()
    [item] = aws.payment_items(order)
    assert svc.repository.abandon_without_intent(item["paymentId"]["S"], svc.now())
    assert not svc.repository.store_intent(item["paymentId"]["S"], "pi_late", svc.now()).won


def test_a_notification_about_a_final_payment_is_answered_without_a_gateway_read(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token=card("visa"))) == []
    event = event_about(intent_of(aws, order), "payment_intent.succeeded")
    assert deliver(event) == (200, "duplicate")
    assert requests(order) == CONFIRMED  # no read back from Stripe


def test_a_notification_that_changes_a_record_is_read_back_from_the_gateway(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 4200, "EUR", token=card("three_d_secure"))) == []
    intent = intent_of(aws, order)
    authenticate(intent, success=True)
    assert deliver(event_about(intent, "payment_intent.succeeded")) == (200, "charged:succeeded")
    assert ("GET", "/v1/payment_intents/{pi}") in requests(order)


REFUND = ("POST", "/v1/refunds")
LIST_REFUNDS = ("GET", "/v1/refunds")


def paid(order: str) -> str:
    assert invoke(payment_handler, payment_event(order)) == []
    assert requests(order) == CONFIRMED
    return order


def test_a_new_refund_costs_one_request_its_second_trigger_and_redeliveries_none(aws: Aws) -> None:
    order = paid(new_order())
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert invoke(refund_handler, cancelled) == []
    assert requests(order) == [*CONFIRMED, REFUND]
    assert invoke(refund_handler, cancelled) == []  # a redelivery of the finished refund
    assert invoke(refund_handler, refund_event(order, detail_type="inventory.reservation_failed")) == []  # 2nd trigger
    assert requests(order) == [*CONFIRMED, REFUND] and refunds(order) == [4999]
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


def test_one_rate_limited_refund_costs_one_request_more(aws: Aws) -> None:
    """A 429 did nothing: the delivery gives its lease back saying so, and the next one refunds without asking."""
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1, status=429, error_type="rate_limit_error")
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert len(invoke(refund_handler, cancelled)) == 1
    assert invoke(refund_handler, refund_event(order, detail_type="inventory.reservation_failed")) == []  # resumes it
    assert requests(order) == [*CONFIRMED, REFUND, REFUND]
    assert invoke(refund_handler, cancelled) == []
    assert requests(order) == [*CONFIRMED, REFUND, REFUND] and refunds(order) == [4999]
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


def test_a_refund_whose_answer_was_lost_is_looked_up_before_it_is_made_again(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 may follow a refund that went through: the lease stays with the failed delivery until it runs out,
    then the next delivery asks the gateway first (one request) and refunds only if nothing is there."""
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1, status=503)
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert len(invoke(refund_handler, cancelled)) == 1
    assert len(invoke(refund_handler, cancelled)) == 1  # the lease is held: no request
    assert requests(order) == [*CONFIRMED, REFUND]
    monkeypatch.setattr(svc, "_now", lambda: "2099-01-01T00:00:00.000Z")  # past the lease
    assert invoke(refund_handler, cancelled) == []
    assert requests(order) == [*CONFIRMED, REFUND, LIST_REFUNDS, REFUND] and refunds(order) == [4999]


def test_the_redelivery_of_a_failed_refund_takes_its_own_lease_back_at_once(aws: Aws) -> None:
    """The lease's owner is the SQS message: its redelivery comes back after a backoff of seconds, far inside the
    5-minute lease, and must not wait it out into the DLQ (envs/local's retry horizon is 4 s). It asks the gateway
    first (the 503 may have followed a refund that went through) and refunds once. Another message still waits."""
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1, status=503)
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert len(invoke(refund_handler, cancelled, message_id="msg-cancelled")) == 1
    other = refund_event(order, detail_type="inventory.reservation_failed")
    assert len(invoke(refund_handler, other)) == 1  # the order's other trigger, another message: the lease is held
    assert requests(order) == [*CONFIRMED, REFUND]
    assert invoke(refund_handler, cancelled, message_id="msg-cancelled", receives=2) == []  # its own redelivery
    assert requests(order) == [*CONFIRMED, REFUND, LIST_REFUNDS, REFUND]
    assert invoke(refund_handler, other) == []  # the refund is final: nothing to ask
    assert requests(order) == [*CONFIRMED, REFUND, LIST_REFUNDS, REFUND] and refunds(order) == [4999]
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


def test_a_resumed_refund_whose_approval_is_recorded_asks_the_gateway_nothing(
    aws: Aws, svc: PaymentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = paid(new_order())
    cancelled = refund_event(order, detail_type="order.cancelled")
    real = svc.publisher.publish
    monkeypatch.setattr(svc.publisher, "publish", lambda event: (_ for _ in ()).throw(RuntimeError("bus down")))
    assert len(invoke(refund_handler, cancelled)) == 1  # refunded and approved; refund.succeeded never went out
    monkeypatch.setattr(svc.publisher, "publish", real)
    assert invoke(refund_handler, cancelled) == []  # the lease is still held, but nothing is asked of the gateway
    assert requests(order) == [*CONFIRMED, REFUND] and refunds(order) == [4999]
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


@pytest.fixture
def sdk_retries_once(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production setting (config's default, STRIPE_MAX_NETWORK_RETRIES=1) instead of the suite's 0."""
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "1")
    reset_process_state()
    yield
    monkeypatch.undo()
    reset_process_state()


def test_one_500_on_confirm_is_retried_within_the_invocation(aws: Aws, sdk_retries_once: None) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=500, order_id=order)
    assert invoke(payment_handler, payment_event(order)) == []  # no redelivery: the SDK retried once
    assert requests(order) == [*CONFIRMED, CONFIRMED[1]]
    assert charges(order) == [4999] and kinds(aws, order) == ["payment.succeeded"]


def test_a_rate_limit_outage_on_refunds_past_the_horizon_ends_in_one_refund_failed_without_a_lookup(aws: Aws) -> None:
    """Every receive of the trigger answered 429: nothing was refunded, and the record says so, so reconciliation
    gives the reservation back and publishes refund.failed without asking the gateway."""
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=3, status=429, error_type="rate_limit_error")
    cancelled = refund_event(order, detail_type="order.cancelled")
    for _ in range(3):
        assert len(invoke(refund_handler, cancelled)) == 1
    assert requests(order) == [*CONFIRMED, REFUND, REFUND, REFUND]
    svc_of().reconcile(NOW)
    assert requests(order) == [*CONFIRMED, REFUND, REFUND, REFUND]  # no lookup: nothing can be there
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"] and refunds(order) == []
    assert aws.payment_items(order)[0]["refundedAmount"]["N"] == "0"
    svc_of().reconcile(NOW)
    assert kinds(aws, order) == ["payment.succeeded", "refund.failed"]


def test_a_refund_lease_that_passed_to_another_delivery_is_not_given_back_by_its_former_holder(
    aws: Aws, svc: PaymentService
) -> None:
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1, status=503)
    assert len(invoke(refund_handler, refund_event(order, detail_type="order.cancelled"))) == 1
    [item] = aws.refund_items(order)
    refund_id = item["refundId"]["S"]
    later = "2099-01-01T00:00:00.000Z"  # the failed delivery's lease has run out: another delivery takes it
    assert svc.repository.take_refund_lease(refund_id, later, "2099-01-01T00:05:00.000Z", "the-next-delivery")
    assert not svc.repository.release_refund_lease(refund_id, "the-failed-delivery", nothing_sent=True)
    [item] = aws.refund_items(order)
    assert item["leaseOwner"]["S"] == "the-next-delivery" and "refundNotSent" not in item


def test_one_500_on_a_refund_is_retried_within_the_invocation(aws: Aws, sdk_retries_once: None) -> None:
    """As production runs it (the SDK retries once, same idempotency key): one transient failure, one request more."""
    order = paid(new_order())
    stripe_stack().faults.fail_next("POST", r"/v1/refunds$", times=1, status=500)
    assert invoke(refund_handler, refund_event(order, detail_type="order.cancelled")) == []
    assert requests(order) == [*CONFIRMED, REFUND, REFUND] and refunds(order) == [4999]
    assert kinds(aws, order) == ["payment.succeeded", "refund.succeeded"]


def test_a_429_after_an_attempt_that_got_no_clear_answer_is_not_taken_for_nothing_done(
    aws: Aws, sdk_retries_once: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK retries a 503 once; a 429 on that retry says nothing about the first attempt, so the refund is
    treated as possibly made: the lease stays held and the next delivery looks before it refunds."""
    order = paid(new_order())
    faults = stripe_stack().faults
    faults.fail_next("POST", r"/v1/refunds$", times=1, status=503)
    faults.fail_next("POST", r"/v1/refunds$", times=1, status=429, error_type="rate_limit_error")
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert len(invoke(refund_handler, cancelled)) == 1
    assert len(invoke(refund_handler, cancelled)) == 1  # the lease is held
    assert requests(order) == [*CONFIRMED, REFUND, REFUND]
    monkeypatch.setattr(svc_of(), "_now", lambda: "2099-01-01T00:00:00.000Z")
    assert invoke(refund_handler, cancelled) == []
    assert requests(order) == [*CONFIRMED, REFUND, REFUND, LIST_REFUNDS, REFUND] and refunds(order) == [4999]


def test_reconciliation_cannot_close_a_record_that_holds_an_attempt(aws: Aws) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=503, order_id=order)
    assert len(invoke(payment_handler, payment_event(order))) == 1  # the intent is stored, its confirm failed
    svc = svc_of()
    [item] = aws.payment_items(order)
    assert "intentId" in item
    assert not svc.repository.abandon_without_intent(item["paymentId"]["S"], svc.now())  # it must be cancelled
