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
from novamart_payments.reconciliation import Ages, reconcile

from tests.integration.conftest import (
    Aws,
    _reset_process_state,
    card,
    charges,
    invoke,
    new_order,
    payment_event,
    refund_event,
    refunds,
    stripe_stack,
)
from tests.integration.test_later_outcomes import authenticate, deliver, event_about, intent_of, kinds, svc_of
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
    reconcile(svc_of(), NOW)
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


def test_a_redelivered_or_second_refund_trigger_of_a_finished_refund_spends_nothing(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order)) == []
    cancelled = refund_event(order, detail_type="order.cancelled")
    assert invoke(refund_handler, cancelled) == []
    spent = requests(order)
    assert spent == [*CONFIRMED, ("POST", "/v1/refunds")]
    assert invoke(refund_handler, cancelled) == []
    assert invoke(refund_handler, refund_event(order, detail_type="inventory.reservation_failed")) == []
    assert requests(order) == spent and refunds(order) == [4999]


@pytest.fixture
def sdk_retries_once(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production setting (config's default, STRIPE_MAX_NETWORK_RETRIES=1) instead of the suite's 0."""
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "1")
    _reset_process_state()
    yield
    monkeypatch.undo()
    _reset_process_state()


def test_one_500_on_confirm_is_retried_within_the_invocation(aws: Aws, sdk_retries_once: None) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=500, order_id=order)
    assert invoke(payment_handler, payment_event(order)) == []  # no redelivery: the SDK retried once
    assert requests(order) == [*CONFIRMED, CONFIRMED[1]]
    assert charges(order) == [4999] and kinds(aws, order) == ["payment.succeeded"]


def test_reconciliation_cannot_close_a_record_that_holds_an_attempt(aws: Aws) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=503, order_id=order)
    assert len(invoke(payment_handler, payment_event(order))) == 1  # the intent is stored, its confirm failed
    svc = svc_of()
    [item] = aws.payment_items(order)
    assert "intentId" in item
    assert not svc.repository.abandon_without_intent(item["paymentId"]["S"], svc.now())  # it must be cancelled
