"""Webhook settlement and Radar on in-memory ports: a notice is a hint, settled from the gateway's truth, once."""

from __future__ import annotations

from datetime import timedelta

from tests.support.decision_world import World, interleave
from tests.support.orders import new_order, payment_trigger, refund_trigger
from tests.support.ports_under_test import (
    Ages,
    ChargeNotice,
    FraudWarningNotice,
    NoticeBusy,
    RefundNotice,
    charge_request,
    settle,
    settle_fraud_notice,
)


def test_a_notice_about_a_final_payment_is_answered_without_a_gateway_request(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order))
    record = fakes.payment(order)
    assert record is not None and record.intent_id is not None
    assert settle(fakes.service, ChargeNotice(record.intent_id, order)) == "duplicate"
    assert fakes.gateway.requests(order) == ["begin_charge", "complete_charge"]


def test_an_attempt_the_order_does_not_hold_cannot_settle_it(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, token="pm_card_threeDSecure2Required"))  # the order's stored attempt waits
    # Another attempt for the same order, declined (one that lost the race to be stored, say): not the order's.
    stray = charge_request(payment_trigger(order, token="pm_card_chargeDeclined"))
    handle = fakes.gateway.begin_charge(stray)
    fakes.gateway.complete_charge(handle, stray)
    assert settle(fakes.service, ChargeNotice(handle, order)) == "not_ours"
    assert fakes.publisher.types(order) == ["payment.action_required"]


def test_a_customer_who_authenticates_as_the_deadline_passes_is_charged_not_failed(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, token="pm_card_threeDSecure2Required"))
    record = fakes.payment(order)
    assert record is not None and record.intent_id is not None
    handle = record.intent_id
    fakes.clock.advance(timedelta(hours=24))
    # The customer completes 3-D Secure between reconciliation's read and its cancel: the cancel answers "charged".
    interleave(fakes.gateway.inner, "cancel_charge", lambda: fakes.gateway.authenticate(handle, success=True))
    ages = Ages(pending_after=timedelta(minutes=15), action_after=timedelta(minutes=15))
    assert fakes.service.reconcile(ages)["charged"] == 1
    assert fakes.publisher.types(order) == ["payment.action_required", "payment.succeeded"]
    assert fakes.gateway.charges(order) == [4999]


def test_an_early_fraud_warning_refunds_once_under_replays_and_the_orders_cancellation(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, minor_units=5000))
    fakes.refund(refund_trigger(order, minor_units=1000, request_id="r1"))  # a partial refund first
    record = fakes.payment(order)
    assert record is not None and record.intent_id is not None
    warning = FraudWarningNotice(record.intent_id, "issfr_1", actionable=True)
    assert settle_fraud_notice(fakes.service, warning, "refund_all") == "fraud_refund:refunded:succeeded"
    assert settle_fraud_notice(fakes.service, warning, "refund_all") == "fraud_refund:duplicate"
    assert fakes.refund(refund_trigger(order)) == "duplicate"  # order.cancelled: the same full refund of the order
    assert fakes.gateway.refunds(order) == [1000, 4000]  # what remained, once
    refunded = [e for e in fakes.events(order) if e["detail-type"] == "refund.succeeded"]
    assert [e["detail"]["data"].get("refundReason") for e in refunded] == ["customer cancelled", "fraudulent"]


def pending_refund(fakes: World) -> tuple[str, RefundNotice]:
    """A paid order whose full refund the gateway accepted but settles later; the notice that it settled."""
    order = new_order()
    fakes.pay(payment_trigger(order))
    fakes.gateway.settle_refunds_later()
    cancelled = refund_trigger(order)
    assert fakes.refund(cancelled) == "refund_pending"
    refund = fakes.refund_record(cancelled)
    assert refund is not None and refund.transaction_id is not None
    return order, RefundNotice(refund.transaction_id, refund.refund_id)


def test_a_refund_the_gateway_settles_later_is_published_by_its_notice_once(fakes: World) -> None:
    order, notice = pending_refund(fakes)
    assert fakes.publisher.types(order) == ["payment.succeeded"]  # no outcome until the gateway decides
    assert settle(fakes.service, notice) == "refunded:succeeded"
    assert settle(fakes.service, notice) == "duplicate"  # a replay: answered from the table
    assert fakes.gateway.requests(order) == ["begin_charge", "complete_charge", "refund", "refund_status"]
    assert fakes.publisher.types(order) == ["payment.succeeded", "refund.succeeded"]


def test_two_notices_about_one_refund_change_settle_it_one_at_a_time(fakes: World) -> None:
    order, notice = pending_refund(fakes)

    def second_notice() -> object:
        try:
            return settle(fakes.service, notice)
        except NoticeBusy:
            return "busy"

    # The second notice arrives while the first holds the refund's lease and reads the refund at the gateway.
    other = interleave(fakes.gateway, "refund_status", second_notice)
    assert settle(fakes.service, notice) == "refunded:succeeded"
    assert other == ["busy"]  # asked to come back later (the gateway redelivers), not settled twice
    assert fakes.publisher.types(order) == ["payment.succeeded", "refund.succeeded"]
