"""What the service decides about a payment trigger, on in-memory ports: which gateway requests it spends, what it
publishes (every event checked against its schema by the publisher fake), what the order's record ends as.

The gateway is the service's real limit, so each test counts the gateway requests per order, beside the money the
gateway really moved (the simulated gateway's ledger).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from novamart_payments.domain import ACTION_DEADLINE, Status
from novamart_payments.failure_codes import PaymentFailureCode
from novamart_payments.risk import RiskDecision, RiskSubject, Verdict
from novamart_payments.timestamps import plus

from tests.support.decision_world import World
from tests.support.orders import new_order, payment_trigger
from tests.support.ports_under_test import (
    ChargeNotice,
    GatewayRateLimited,
    GatewayResult,
    Outcome,
    PublishError,
    TransientGatewayError,
    settle,
)

CHARGE = ["begin_charge", "complete_charge"]  # a new order's requests: open the attempt, confirm it


def test_a_new_order_is_charged_once_and_its_success_published(fakes: World) -> None:
    order = new_order()
    assert fakes.pay(payment_trigger(order, minor_units=4999)) == "charged:succeeded"
    assert fakes.gateway.requests(order) == CHARGE
    assert fakes.gateway.charges(order) == [4999]
    data = fakes.event(order, "payment.succeeded")
    assert data["amount"] == {"minorUnits": 4999, "currency": "USD"} and data["transactionId"].startswith("ch_sim_")
    record = fakes.payment(order)
    assert record is not None and (record.status, record.published) == (Status.SUCCEEDED, True)


def test_a_redelivery_and_the_orders_second_trigger_spend_no_gateway_request(fakes: World) -> None:
    order = new_order()
    first = payment_trigger(order)
    fakes.pay(first)
    assert fakes.pay(first) == "duplicate"  # the same message again
    second = payment_trigger(order, customer=first.customer_id)  # order.ready_for_payment after inventory.reserved
    assert fakes.pay(second) == "duplicate"
    assert fakes.gateway.requests(order) == CHARGE
    assert fakes.publisher.types(order) == ["payment.succeeded"]


def test_the_gateway_key_names_the_order_not_the_delivery(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    fakes.gateway.fail("complete_charge", TransientGatewayError("down"))
    with pytest.raises(TransientGatewayError):
        fakes.pay(trigger)
    fakes.pay(trigger)
    assert fakes.gateway.keys(order) == {f"pay:{order}"}


def test_a_stale_decline_of_a_payment_that_moved_on_publishes_nothing(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    fakes.pay(trigger)
    stale = fakes.payment(order)
    assert stale is not None
    stale = replace(stale, status=Status.PENDING)  # read before the charge was recorded
    late = GatewayResult(Outcome.DECLINED, None, "card_declined", "late", stale.created_at)
    assert fakes.service.settle_payment(stale, late) == "duplicate"
    assert fakes.publisher.types(order) == ["payment.succeeded"]


def test_a_trigger_with_another_amount_charges_nothing_more(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, minor_units=4999))
    assert fakes.pay(payment_trigger(order, minor_units=5999)) == "rejected_mismatch"
    assert fakes.gateway.requests(order) == CHARGE and fakes.gateway.charges(order) == [4999]


def test_a_decline_publishes_payment_failed_once(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order, token="pm_card_chargeDeclinedInsufficientFunds")
    assert fakes.pay(trigger) == "charged:failed"
    data = fakes.event(order, "payment.failed")
    assert data["code"] == "insufficient_funds" and fakes.gateway.charges(order) == []
    assert fakes.pay(trigger) == "duplicate"
    assert fakes.gateway.requests(order) == CHARGE


def test_three_d_secure_asks_the_customer_then_the_notice_settles_it(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order, token="pm_card_threeDSecure2Required")
    assert fakes.pay(trigger) == "requires_action"
    waiting = fakes.payment(order)
    assert waiting is not None and waiting.status is Status.REQUIRES_ACTION and waiting.intent_id is not None
    action = fakes.event(order, "payment.action_required")
    assert (action["intentId"], action["action"]) == (waiting.intent_id, "three_d_secure")
    assert action["expiresAt"] == plus(waiting.created_at, ACTION_DEADLINE)  # counted from the claim
    assert fakes.pay(trigger) == "duplicate"  # the outcome comes from the customer, not a redelivery
    assert fakes.gateway.requests(order) == CHARGE and fakes.gateway.charges(order) == []

    fakes.gateway.authenticate(waiting.intent_id, success=True)
    assert settle(fakes.service, ChargeNotice(waiting.intent_id, order)) == "charged:succeeded"
    assert fakes.publisher.types(order) == ["payment.action_required", "payment.succeeded"]
    assert fakes.gateway.charges(order) == [4999]


def test_a_transient_error_is_retried_later_without_a_second_charge(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    # The confirmation went through at the gateway, but its answer was lost (a timeout): the message comes back.
    fakes.gateway.fail("complete_charge", TransientGatewayError("timeout"), after=True)
    with pytest.raises(TransientGatewayError):
        fakes.pay(trigger)
    assert fakes.publisher.events == [] and fakes.gateway.charges(order) == [4999]
    assert fakes.pay(trigger) == "charged:succeeded"  # the redelivery completes the one stored handle
    assert fakes.gateway.requests(order) == [*CHARGE, "complete_charge"]
    assert fakes.gateway.charges(order) == [4999]
    assert fakes.publisher.types(order) == ["payment.succeeded"]


def test_a_rate_limited_gateway_is_retried_later_and_charges_once(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    fakes.gateway.fail("begin_charge", GatewayRateLimited("429"), times=2)
    for _ in range(2):
        with pytest.raises(GatewayRateLimited):
            fakes.pay(trigger)
    record = fakes.payment(order)
    assert record is not None and record.status is Status.PENDING and record.intent_id is None
    assert fakes.publisher.events == []
    assert fakes.pay(trigger) == "charged:succeeded"
    assert fakes.gateway.requests(order) == ["begin_charge", "begin_charge", *CHARGE]
    assert fakes.gateway.charges(order) == [4999]


def test_a_refused_publish_is_retried_with_the_same_event_and_no_second_charge(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    fakes.publisher.fail_next()
    with pytest.raises(PublishError):
        fakes.pay(trigger)
    record = fakes.payment(order)
    assert record is not None and record.status is Status.PENDING  # publish first, then finish
    assert fakes.pay(trigger) == "charged:succeeded"
    assert fakes.gateway.requests(order) == [*CHARGE, "complete_charge"]  # the stored handle, read back
    assert fakes.gateway.charges(order) == [4999] and fakes.publisher.types(order) == ["payment.succeeded"]


class Blocker:
    """A risk check that blocks every order and counts how often it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def assess(self, subject: RiskSubject) -> RiskDecision:
        self.asked.append(subject.order_id)
        return RiskDecision(Verdict.BLOCK, "test.block", PaymentFailureCode.FRAUD_SUSPECTED, "blocked by the test")


def test_a_risk_block_fails_the_payment_before_any_gateway_request() -> None:
    blocker = Blocker()
    fakes = World(risk=blocker)
    order = new_order()
    trigger = payment_trigger(order)
    assert fakes.pay(trigger) == "charged:failed"
    assert fakes.event(order, "payment.failed")["code"] == "fraud_suspected"
    assert fakes.gateway.requests(order) == []
    assert fakes.pay(trigger) == "duplicate" and blocker.asked == [order]  # decided once, stored on the claim


def test_a_risk_decision_stored_on_the_claim_is_followed_by_its_redelivery() -> None:
    blocker = Blocker()
    fakes = World(risk=blocker)
    order = new_order()
    trigger = payment_trigger(order)
    fakes.publisher.fail_next()  # the block is decided and stored, its event refused: the message comes back
    with pytest.raises(PublishError):
        fakes.pay(trigger)
    fakes.clock.advance(timedelta(seconds=30))
    assert fakes.pay(trigger) == "charged:failed"
    assert blocker.asked == [order] and fakes.gateway.requests(order) == []
