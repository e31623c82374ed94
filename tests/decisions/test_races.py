"""Races, made to happen at a chosen point: another writer's whole delivery runs just before one call of this one
(``interleave``). Whoever loses a conditional write decides again from what won, so every race converges on one
outcome: one charge, one refund within the ceiling, one event per fact."""

from __future__ import annotations

import pytest
from novamart_payments.domain import Status, payment_id_for

from tests.support.decision_world import World, interleave
from tests.support.orders import new_order, payment_trigger, refund_trigger
from tests.support.ports_under_test import RetryLater


def test_a_claim_lost_to_a_concurrent_copy_spends_no_gateway_request(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    other = interleave(fakes.repo, "claim_payment", lambda: fakes.pay(trigger))
    assert fakes.pay(trigger) == "duplicate"  # its claim lost to a payment already finished and published
    assert other == ["charged:succeeded"]
    assert fakes.gateway.requests(order) == ["begin_charge", "complete_charge"]
    assert fakes.gateway.charges(order) == [4999] and fakes.publisher.types(order) == ["payment.succeeded"]


def test_a_claim_lost_to_the_orders_other_trigger_leaves_the_payment_to_it(fakes: World) -> None:
    order = new_order()
    reserved, ready = payment_trigger(order), payment_trigger(order)
    interleave(
        fakes.repo, "claim_payment", lambda: fakes.repo.claim_payment(payment_id_for(order), ready, fakes.clock())
    )
    assert fakes.pay(reserved) == "in_flight"  # the other trigger owns the claim: no gateway request here
    assert fakes.gateway.requests(order) == []
    assert fakes.pay(ready) == "charged:succeeded"
    assert fakes.gateway.charges(order) == [4999]


def test_a_handle_lost_to_a_concurrent_copy_is_released_and_the_order_charged_once(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    # Both copies resume the same claim; the other opens, stores and completes its handle while this one holds an
    # unstored handle of its own.
    fakes.repo.claim_payment(payment_id_for(order), trigger, fakes.clock())
    other = interleave(fakes.repo, "store_intent", lambda: fakes.pay(trigger))
    # The loser releases its own handle and decides again from what won, at once: no redelivery to wait for.
    assert fakes.pay(trigger) == "duplicate"
    assert other == ["charged:succeeded"]
    assert fakes.gateway.requests(order) == ["begin_charge", "begin_charge", "complete_charge", "release_charge"]
    assert fakes.pay(trigger) == "duplicate"  # a redelivery: answered from the table
    assert fakes.gateway.requests(order)[4:] == []
    assert fakes.gateway.charges(order) == [4999] and fakes.publisher.types(order) == ["payment.succeeded"]


def test_a_handle_lost_to_reconciliation_leaves_the_decision_to_the_redelivery(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    pending = fakes.repo.claim_payment(payment_id_for(order), trigger, fakes.clock()).current
    assert pending is not None
    # Reconciliation gives up on the handle-less payment while this delivery opens its attempt: no handle may be
    # stored any more, and the record is still PENDING until reconciliation publishes its failure.
    interleave(fakes.repo, "store_intent", lambda: fakes.repo.abandon_without_intent(pending.payment_id, fakes.clock()))
    with pytest.raises(RetryLater):
        fakes.pay(trigger)
    assert fakes.gateway.requests(order) == ["begin_charge", "release_charge"]
    assert fakes.gateway.charges(order) == []


def test_racing_partial_refunds_on_a_stale_read_never_pass_the_capture(fakes: World) -> None:
    order = new_order()
    fakes.pay(payment_trigger(order, minor_units=4999))
    mine, theirs = (refund_trigger(order, minor_units=3000, request_id=r) for r in ("r-mine", "r-theirs"))
    other = interleave(fakes.repo, "reserve_refund", lambda: fakes.refund(theirs))
    assert fakes.refund(mine) == "refused:failed"  # reserved against a stale read, lost, decided again: refused
    assert other == ["refunded:succeeded"]
    assert fakes.gateway.refunds(order) == [3000]
    assert fakes.event(order, "refund.failed")["code"] == "exceeds_refundable"
    record = fakes.payment(order)
    assert record is not None and record.refunded_minor_units == 3000 and record.status is Status.SUCCEEDED


def test_a_cancellation_racing_the_charge_is_refunded_once_the_payment_is_finished(fakes: World) -> None:
    order = new_order()
    trigger = payment_trigger(order)
    cancelled = refund_trigger(order)
    # The order is cancelled while its charge is in flight: the refund waits, then refunds what was captured.
    seen: list[object] = []

    def cancel_now() -> object:
        try:
            return fakes.refund(cancelled)
        except RetryLater as later:
            seen.append(later)
            return "retry_later"

    interleave(fakes.gateway, "complete_charge", cancel_now)
    assert fakes.pay(trigger) == "charged:succeeded"
    assert len(seen) == 1 and fakes.gateway.refunds(order) == []
    assert fakes.refund(cancelled) == "refunded:succeeded"
    assert fakes.gateway.refunds(order) == [4999]
    assert fakes.publisher.types(order) == ["payment.succeeded", "refund.succeeded"]
