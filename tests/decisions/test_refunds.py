"""What the service decides about a refund trigger, on in-memory ports: never more than was captured, one refund per
request however often it is delivered, and the gateway asked only what it must be asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from novamart_payments.domain import RefundTrigger

from tests.support.decision_world import World
from tests.support.orders import new_order, payment_trigger, refund_trigger
from tests.support.ports_under_test import (
    REFUND_LEASE,
    GatewayRateLimited,
    GatewayResult,
    Outcome,
    PublishError,
    RetryLater,
    TransientGatewayError,
)

CHARGE = ["begin_charge", "complete_charge"]


def paid(fakes: World, minor_units: int = 4999, token: str = "pm_card_visa") -> str:
    order = new_order()
    fakes.pay(payment_trigger(order, minor_units=minor_units, token=token))
    return order


def test_a_full_refund_refunds_what_was_captured_once(fakes: World) -> None:
    order = paid(fakes)
    cancelled = refund_trigger(order)
    assert fakes.refund(cancelled) == "refunded:succeeded"
    assert fakes.event(order, "refund.succeeded")["amount"] == {"minorUnits": 4999, "currency": "USD"}
    assert fakes.refund(cancelled) == "duplicate"
    assert fakes.refund(refund_trigger(order)) == "duplicate"  # the order's other refund trigger: the same refund
    assert fakes.gateway.requests(order) == [*CHARGE, "refund"]
    assert fakes.gateway.refunds(order) == [4999]


def test_partial_refunds_within_the_ceiling_and_one_above_what_is_left_refused(fakes: World) -> None:
    order = paid(fakes, 5000)
    assert fakes.refund(refund_trigger(order, minor_units=3000, request_id="r1")) == "refunded:succeeded"
    assert fakes.refund(refund_trigger(order, minor_units=2000, request_id="r2")) == "refunded:succeeded"
    assert fakes.refund(refund_trigger(order, minor_units=1, request_id="r3")) == "refused:failed"
    failed = fakes.event(order, "refund.failed")
    assert failed["code"] == "exceeds_refundable" and failed["amount"]["minorUnits"] == 1
    assert fakes.gateway.refunds(order) == [2000, 3000]
    assert fakes.gateway.requests(order) == [*CHARGE, "refund", "refund"]  # the refused one asked nothing
    record = fakes.payment(order)
    assert record is not None and record.refunded_minor_units == 5000


def test_a_partial_refund_above_the_capture_is_refused_without_a_gateway_request(fakes: World) -> None:
    order = paid(fakes, 4999)
    assert fakes.refund(refund_trigger(order, minor_units=5000, request_id="r1")) == "refused:failed"
    assert fakes.event(order, "refund.failed")["code"] == "exceeds_refundable"
    assert fakes.gateway.requests(order) == CHARGE and fakes.gateway.refunds(order) == []


def test_a_full_refund_after_a_partial_one_refunds_only_what_is_left(fakes: World) -> None:
    order = paid(fakes, 5000)
    fakes.refund(refund_trigger(order, minor_units=1200, request_id="r1"))
    assert fakes.refund(refund_trigger(order)) == "refunded:succeeded"
    assert fakes.gateway.refunds(order) == [1200, 3800]
    assert fakes.refund(refund_trigger(order, minor_units=1, request_id="r2")) == "refused:failed"


def test_a_refund_of_an_unpaid_order_blocks_the_later_payment(fakes: World) -> None:
    order = new_order()
    assert fakes.refund(refund_trigger(order)) == "refused:failed"
    assert fakes.event(order, "refund.failed")["code"] == "no_payment"
    assert fakes.pay(payment_trigger(order)) == "blocked_cancelled:failed"
    assert fakes.event(order, "payment.failed")["code"] == "order_cancelled"
    assert fakes.gateway.requests(order) == []  # nothing was ever charged or refunded


def test_a_refund_of_a_declined_payment_refunds_nothing(fakes: World) -> None:
    order = paid(fakes, token="pm_card_chargeDeclined")
    assert fakes.refund(refund_trigger(order)) == "refused:failed"
    assert fakes.event(order, "refund.failed")["code"] == "payment_not_captured"
    assert fakes.gateway.requests(order) == CHARGE


def test_a_refund_waits_for_a_payment_still_in_flight(fakes: World) -> None:
    order = new_order()
    fakes.gateway.fail("begin_charge", TransientGatewayError("down"))
    with pytest.raises(TransientGatewayError):
        fakes.pay(payment_trigger(order))
    with pytest.raises(RetryLater):
        fakes.refund(refund_trigger(order))
    assert fakes.publisher.events == []


def refund_failing_once(fakes: World, error: Exception, *, after: bool = False) -> tuple[str, RefundTrigger]:
    """A paid order whose full refund's first delivery (message ``msg-1``) fails at the gateway with ``error``."""
    order = paid(fakes)
    cancelled = refund_trigger(order)
    fakes.gateway.fail("refund", error, after=after)
    with pytest.raises(type(error)):
        fakes.refund(cancelled, delivery="msg-1")
    return order, cancelled


def test_a_rate_limited_refund_is_retried_without_asking_the_gateway_first(fakes: World) -> None:
    order, cancelled = refund_failing_once(fakes, GatewayRateLimited("429"))
    # The 429 did nothing: the lease went back marked so, and the redelivery refunds at once, asking nothing first.
    assert fakes.refund(cancelled, delivery="msg-1") == "refunded:succeeded"
    assert fakes.gateway.requests(order) == [*CHARGE, "refund", "refund"]
    assert fakes.gateway.refunds(order) == [4999]


def test_a_refund_whose_answer_was_lost_is_found_not_made_again(fakes: World) -> None:
    order, cancelled = refund_failing_once(fakes, TransientGatewayError("timeout"), after=True)  # answer lost
    assert fakes.refund(cancelled, delivery="msg-1") == "refunded:succeeded"  # its own lease, taken back at once
    assert fakes.gateway.requests(order) == [*CHARGE, "refund", "find_refund"]
    assert fakes.gateway.refunds(order) == [4999] and fakes.publisher.types(order).count("refund.succeeded") == 1


def test_another_message_waits_for_the_lease_of_a_refund_in_flight(fakes: World) -> None:
    order, cancelled = refund_failing_once(fakes, TransientGatewayError("timeout"))
    with pytest.raises(RetryLater):
        fakes.refund(cancelled, delivery="msg-2")  # not its lease: it may not ask or refund yet
    assert fakes.gateway.requests(order) == [*CHARGE, "refund"]
    fakes.clock.advance(REFUND_LEASE + timedelta(seconds=1))  # its holder is gone: the lease has run out
    assert fakes.refund(cancelled, delivery="msg-2") == "refunded:succeeded"
    assert fakes.gateway.requests(order) == [*CHARGE, "refund", "find_refund", "refund"]
    assert fakes.gateway.refunds(order) == [4999]


def test_an_order_cancelled_while_its_payment_waits_for_the_customer_cancels_the_attempt(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, token="pm_card_threeDSecure2Required"))
    assert fakes.refund(refund_trigger(order)) == "refused:failed"  # nothing was captured, so nothing to refund
    assert fakes.event(order, "payment.failed")["code"] == "order_cancelled"
    assert fakes.event(order, "refund.failed")["code"] == "payment_not_captured"
    assert fakes.gateway.requests(order) == [*CHARGE, "cancel_charge"] and fakes.gateway.charges(order) == []


def test_a_stale_approval_of_a_declined_refund_publishes_nothing(fakes: World) -> None:
    order, cancelled = refund_failing_once(fakes, TransientGatewayError("timeout"))
    pending = fakes.refund_record(cancelled)
    assert pending is not None and pending.status.value == "PENDING"
    declined = GatewayResult(Outcome.DECLINED, None, "refund_declined", "declined", pending.created_at)
    assert fakes.service.settle_refund(pending, declined) == "refund_declined:failed"
    approved = GatewayResult(Outcome.APPROVED, "re_late", processed_at=pending.created_at)
    assert fakes.service.settle_refund(pending, approved) == "duplicate"
    assert fakes.publisher.types(order) == ["payment.succeeded", "refund.failed"]
    payment = fakes.payment(order)
    assert payment is not None and payment.refunded_minor_units == 0  # the declined refund gave its amount back


def test_a_refund_whose_approval_is_recorded_is_published_without_asking_the_gateway_again(fakes: World) -> None:
    order = paid(fakes)
    cancelled = refund_trigger(order)
    fakes.publisher.fail_next()  # the approval is recorded, its event refused: the message comes back
    with pytest.raises(PublishError):
        fakes.refund(cancelled, delivery="msg-1")
    assert fakes.refund(cancelled, delivery="msg-2") == "refunded:succeeded"
    assert fakes.gateway.requests(order) == [*CHARGE, "refund"] and fakes.gateway.refunds(order) == [4999]
