"""Reconciliation of payments nothing else will finish, on in-memory ports: a stuck payment ends in one outcome,
and a trigger that comes back after it can no longer charge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.decision_world import World
from tests.support.orders import new_order, payment_trigger, refund_trigger
from tests.support.ports_under_test import Ages, GatewayRateLimited, TransientGatewayError

AGES = Ages(pending_after=timedelta(minutes=15), action_after=timedelta(minutes=15))


def test_a_payment_that_never_got_a_gateway_attempt_is_failed_and_closed_to_later_charges(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    fakes.gateway.fail("begin_charge", TransientGatewayError("down"))
    with pytest.raises(TransientGatewayError):
        fakes.pay(trigger)  # its retries then ran out: the message is in the DLQ, the record PENDING
    fakes.clock.advance(timedelta(minutes=20))
    report = fakes.service.reconcile(AGES)
    assert report["cancelled:gateway_unavailable"] == 1
    assert fakes.event(order, "payment.failed")["code"] == "gateway_unavailable"
    assert fakes.pay(trigger) == "duplicate"  # a redriven trigger finds it finished
    assert fakes.gateway.requests(order) == ["begin_charge"] and fakes.gateway.charges(order) == []
    assert fakes.service.reconcile(AGES).get("cancelled:gateway_unavailable") is None  # finished: not listed


def test_a_payment_whose_attempt_was_never_confirmed_is_cancelled_then_failed(fakes: World) -> None:
    order = new_order()
    fakes.gateway.fail("complete_charge", TransientGatewayError("down"))
    with pytest.raises(TransientGatewayError):
        fakes.pay(payment_trigger(order))
    fakes.clock.advance(timedelta(minutes=20))
    assert fakes.service.reconcile(AGES)["cancelled:gateway_unavailable"] == 1
    assert fakes.gateway.requests(order) == ["begin_charge", "complete_charge", "charge_status", "cancel_charge"]
    assert fakes.event(order, "payment.failed")["code"] == "gateway_unavailable"
    assert fakes.gateway.charges(order) == []


def test_a_payment_confirmed_before_its_answer_was_lost_is_settled_as_charged(fakes: World) -> None:
    order = new_order()
    fakes.gateway.fail("complete_charge", TransientGatewayError("timeout"), after=True)
    with pytest.raises(TransientGatewayError):
        fakes.pay(payment_trigger(order))
    fakes.clock.advance(timedelta(minutes=20))
    assert fakes.service.reconcile(AGES)["charged"] == 1
    assert fakes.publisher.types(order) == ["payment.succeeded"] and fakes.gateway.charges(order) == [4999]


def test_a_customer_who_never_authenticates_is_cancelled_after_the_deadline(fakes: World) -> None:
    order = new_order()
    assert fakes.pay(payment_trigger(order, token="pm_card_threeDSecure2Required")) == "requires_action"
    fakes.clock.advance(timedelta(hours=1))
    assert fakes.service.reconcile(AGES).get("cancelled:authentication_expired") is None  # still in time
    fakes.clock.advance(timedelta(hours=23))
    assert fakes.service.reconcile(AGES)["cancelled:authentication_expired"] == 1
    assert fakes.publisher.types(order) == ["payment.action_required", "payment.failed"]
    assert fakes.event(order, "payment.failed")["code"] == "authentication_expired"
    assert fakes.gateway.charges(order) == []


def test_a_refund_left_pending_ends_in_one_outcome_after_one_pass(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order))
    fakes.gateway.fail("refund", TransientGatewayError("down"))  # then its retries ran out: PENDING for good
    with pytest.raises(TransientGatewayError):
        fakes.refund(refund_trigger(order), delivery="msg-1")
    fakes.clock.advance(timedelta(minutes=20))
    assert fakes.service.reconcile(AGES)["refund_failed:refund_declined"] == 1
    assert fakes.gateway.requests(order)[-2:] == ["refund", "find_refund"]  # asked: did the attempt get through?
    assert fakes.event(order, "refund.failed")["code"] == "refund_declined"
    payment = fakes.payment(order)
    assert payment is not None and payment.refunded_minor_units == 0 and fakes.gateway.refunds(order) == []


def test_a_refund_refused_before_it_did_anything_is_failed_without_a_lookup(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order))
    fakes.gateway.fail("refund", GatewayRateLimited("429"))
    with pytest.raises(GatewayRateLimited):
        fakes.refund(refund_trigger(order), delivery="msg-1")
    fakes.clock.advance(timedelta(minutes=20))
    assert fakes.service.reconcile(AGES)["refund_failed:refund_declined"] == 1
    assert "find_refund" not in fakes.gateway.requests(order)
