"""The repository port's contract, run against the in-memory fake and the DynamoDB adapter on moto (``subject``).

Each test is one conditional behaviour the service's decisions rely on: one claim per order, statuses that only
move forward, one risk decision and one gateway handle per claim, the refund ceiling held even against a stale
copy of the payment, refund leases with owners, published flags, dispute and review notes, and the sparse index of
unfinished records. The fake passes only because it keeps these the way DynamoDB does; the last tests compare the
two implementations' answers field by field over whole lifecycles.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from novamart_payments import domain
from novamart_payments.domain import Money, PaymentRecord, RefundRecord, Status
from novamart_payments.risk import RiskDecision, Verdict

from tests.support.orders import at, new_order, payment_trigger
from tests.support.ports_under_test import Lease

USD = "USD"


def pid(order_id: str) -> str:
    return domain.payment_id_for(order_id)


def claimed(repo: Any, order_id: str, event_id: str = "evt-1", when: float = 0) -> PaymentRecord:
    result = repo.claim_payment(pid(order_id), payment_trigger(order_id, event_id=event_id), at(when))
    assert result.won
    return result.current


def captured(repo: Any, order_id: str, minor_units: int = 4999) -> PaymentRecord:
    """An order charged ``minor_units``: claimed, its handle stored, finished SUCCEEDED."""
    trigger = payment_trigger(order_id, event_id="evt-1", minor_units=minor_units)
    record = repo.claim_payment(pid(order_id), trigger, at(0)).current
    repo.store_intent(record.payment_id, f"pi_{order_id[-8:]}", at(1))
    final = replace(record, status=Status.SUCCEEDED, transaction_id=f"ch_{order_id[-8:]}", processed_at=at(2))
    assert repo.finish_payment(final, at(3)).won
    payment = repo.get_payment(record.payment_id)
    assert payment is not None
    return payment


def new_refund(payment: PaymentRecord, minor_units: int, key: str = "r1") -> RefundRecord:
    idempotency_key = f"refund:{payment.order_id}:{key}"
    return RefundRecord(
        refund_id=domain.refund_id_for(idempotency_key),
        order_id=payment.order_id,
        status=Status.PENDING,
        amount=Money(minor_units, USD),
        payment_id=payment.payment_id,
        customer_id=payment.customer_id,
        reason="customer cancelled",
        correlation_id=payment.correlation_id,
        causation_id=f"evt-{key}",
        idempotency_key=idempotency_key,
        created_at=at(10),
        updated_at=at(10),
    )


def reserved(
    repo: Any, payment: PaymentRecord, minor_units: int, key: str = "r1", owner: str = "msg-1"
) -> RefundRecord:
    refund = new_refund(payment, minor_units, key)
    assert repo.reserve_refund(payment, refund, at(10), at(310), owner)
    return refund


# --- the claim --------------------------------------------------------------------------------------------


def test_the_first_claim_wins_and_a_second_gets_the_winner(repo: Any) -> None:
    order = new_order()
    first = repo.claim_payment(pid(order), payment_trigger(order, event_id="evt-a"), at(0))
    second = repo.claim_payment(pid(order), payment_trigger(order, event_id="evt-b"), at(1))
    assert first.won and not second.won
    assert first.current.status is Status.PENDING and first.current.causation_id == "evt-a"
    assert second.current == first.current == repo.get_payment(pid(order))
    assert (first.current.refunded_minor_units, first.current.published, first.current.created_at) == (0, False, at(0))


def test_a_cancel_marker_takes_the_order_and_a_late_trigger_attaches_to_it_once(repo: Any) -> None:
    order = new_order()
    marker = repo.block_payment(pid(order), order, payment_trigger(order).meta, at(0))
    assert marker.won and marker.current.cancelled_before_payment and marker.current.status is Status.FAILED
    assert marker.current.amount is None and marker.current.failure_code == "order_cancelled"
    assert not repo.claim_payment(pid(order), payment_trigger(order), at(1)).won
    attached = repo.attach_blocked_payment(pid(order), payment_trigger(order, event_id="evt-late"), at(2))
    assert attached.won and attached.current.amount == Money(4999, USD) and attached.current.causation_id == "evt-late"
    again = repo.attach_blocked_payment(pid(order), payment_trigger(order, event_id="evt-later"), at(3))
    assert not again.won and again.current.causation_id == "evt-late"


def test_a_marker_cannot_replace_a_payment_nor_a_trigger_attach_to_one(repo: Any) -> None:
    order = new_order()
    claim = claimed(repo, order)
    blocked = repo.block_payment(pid(order), order, payment_trigger(order).meta, at(1))
    assert not blocked.won and blocked.current == claim
    assert not repo.attach_blocked_payment(pid(order), payment_trigger(order), at(2)).won
    missing = repo.attach_blocked_payment(pid(new_order()), payment_trigger(order), at(2))
    assert (missing.won, missing.current) == (False, None)


def test_one_risk_decision_per_claim(repo: Any) -> None:
    order = new_order()
    claimed(repo, order)
    block = RiskDecision(Verdict.BLOCK, "velocity.orders-per-hour", None, "too many orders", 87.5)
    first = repo.record_risk_decision(pid(order), block, at(1))
    second = repo.record_risk_decision(pid(order), RiskDecision(Verdict.ALLOW, "none"), at(2))
    assert first.won and first.current.risk == block
    assert not second.won and second.current.risk == block


def test_one_gateway_handle_per_claim_and_none_after_abandonment(repo: Any) -> None:
    order = new_order()
    claimed(repo, order)
    first = repo.store_intent(pid(order), "pi_first", at(1))
    second = repo.store_intent(pid(order), "pi_second", at(2))
    assert first.won and first.current.intent_id == "pi_first"
    assert not second.won and second.current.intent_id == "pi_first"
    assert not repo.abandon_without_intent(pid(order), at(3))  # it has a handle: reconciliation asks the gateway

    other = new_order()
    claimed(repo, other)
    assert repo.abandon_without_intent(pid(other), at(1)) and repo.abandon_without_intent(pid(other), at(2))
    refused = repo.store_intent(pid(other), "pi_late", at(3))
    assert not refused.won and refused.current.intent_id is None


# --- statuses only move forward ---------------------------------------------------------------------------


def test_a_payment_is_finished_once_and_never_moves_back(repo: Any) -> None:
    order = new_order()
    record = claimed(repo, order)
    ok = replace(record, status=Status.SUCCEEDED, transaction_id="ch_1", processed_at=at(2), published=True)
    won = repo.finish_payment(ok, at(3))
    assert won.won and won.current == replace(ok, updated_at=at(3))
    stale = replace(record, status=Status.FAILED, failure_code="card_declined", failure_reason="declined")
    lost = repo.finish_payment(stale, at(4))
    assert not lost.won and lost.current.status is Status.SUCCEEDED and lost.current.transaction_id == "ch_1"
    stored = repo.get_payment(pid(order))
    assert (stored.status, stored.published, stored.failure_code, stored.processed_at) == (
        Status.SUCCEEDED,
        True,
        None,
        at(2),
    )
    assert not repo.require_action(_waiting(record), at(5)).won
    assert not repo.record_risk_decision(pid(order), RiskDecision(Verdict.ALLOW), at(5)).won


def _waiting(record: PaymentRecord) -> PaymentRecord:
    return replace(
        record,
        status=Status.REQUIRES_ACTION,
        intent_id="pi_3ds",
        action_type="three_d_secure",
        action_expires_at=at(82800),
        processed_at=at(1),
    )


def test_a_payment_waits_for_the_customer_once_then_finishes(repo: Any) -> None:
    order = new_order()
    record = claimed(repo, order)
    repo.store_intent(pid(order), "pi_3ds", at(1))
    moved = repo.require_action(_waiting(record), at(2))
    assert moved.won and moved.current == replace(_waiting(record), updated_at=at(2))
    assert not repo.require_action(_waiting(record), at(3)).won
    stored = repo.get_payment(pid(order))
    assert (stored.status, stored.action_type, stored.action_expires_at) == (
        Status.REQUIRES_ACTION,
        "three_d_secure",
        at(82800),
    )
    failed = replace(stored, status=Status.FAILED, failure_code="authentication_expired", failure_reason="late")
    assert repo.finish_payment(failed, at(4)).won
    assert repo.get_payment(pid(order)).status is Status.FAILED


def test_published_flags(repo: Any) -> None:
    order = new_order()
    marker = repo.block_payment(pid(order), order, payment_trigger(order).meta, at(0)).current
    assert not marker.published
    repo.mark_payment_published(pid(order))
    assert repo.get_payment(pid(order)).published
    with pytest.raises(Exception):  # noqa: B017 - the adapter's ClientError, the fake's ConditionFailed
        repo.mark_payment_published(pid(new_order()))


# --- the sparse index of unfinished records -----------------------------------------------------------------


def open_ids(repo: Any, status: Status, before: float) -> set[str]:
    return {r.payment_id for r in repo.unfinished_payments(status, at(before), 1000)}


def test_unfinished_payments_oldest_first_per_status_until_finished(repo: Any) -> None:
    # The tables are shared by the session: only what this test made, and only before its own cut-off, counts.
    orders = [new_order() for _ in range(3)]
    base = 1_000_000.0
    for i, order in enumerate(reversed(orders)):  # made newest first: the index orders them, not insertion
        claimed(repo, order, when=base + 10 - i)
    mine = {pid(o) for o in orders}
    listed = [r.payment_id for r in repo.unfinished_payments(Status.PENDING, at(base + 100), 1000)]
    assert [p for p in listed if p in mine] == [pid(o) for o in orders]
    assert open_ids(repo, Status.PENDING, base + 9.5) & mine == {pid(orders[0]), pid(orders[1])}
    first = repo.get_payment(pid(orders[0]))
    repo.require_action(_waiting(first), at(base + 50))
    repo.finish_payment(replace(repo.get_payment(pid(orders[1])), status=Status.SUCCEEDED), at(base + 51))
    assert open_ids(repo, Status.PENDING, base + 100) & mine == {pid(orders[2])}
    assert open_ids(repo, Status.REQUIRES_ACTION, base + 100) & mine == {pid(orders[0])}
    # Waiting counts from when it began to wait (openSince moves), not from the claim.
    assert pid(orders[0]) not in open_ids(repo, Status.REQUIRES_ACTION, base + 49)
    assert repo.oldest_unfinished_since(Status.PENDING) is not None


def test_the_oldest_unfinished_is_when_it_was_opened(empty_repo: Any) -> None:
    repo = empty_repo
    assert repo.oldest_unfinished_since(Status.PENDING) is None
    claimed(repo, new_order(), when=5)
    claimed(repo, new_order(), when=3)
    assert repo.oldest_unfinished_since(Status.PENDING) == at(3)
    assert repo.oldest_unfinished_since(Status.PENDING, refunds=True) is None
    assert [r.created_at for r in repo.unfinished_payments(Status.PENDING, at(10), 1)] == [at(3)]


# --- notes -------------------------------------------------------------------------------------------------


def test_a_dispute_is_noted_once(repo: Any) -> None:
    payment = captured(repo, new_order())
    assert repo.note_dispute(payment.payment_id, "dp_1")
    assert not repo.note_dispute(payment.payment_id, "dp_1")
    assert repo.note_dispute(payment.payment_id, "dp_2")
    assert repo.get_payment(payment.payment_id).dispute_ids == frozenset({"dp_1", "dp_2"})
    assert not repo.note_dispute(pid(new_order()), "dp_1")


def test_review_notes_are_a_set(subject: Any) -> None:
    payment = captured(subject.repo, new_order())
    for state in ("opened", "opened", "closed:approved"):
        subject.repo.note_review(payment.payment_id, "prv_1", state)
    assert subject.reviews(payment.payment_id) == {"prv_1:opened", "prv_1:closed:approved"}


# --- refunds: the ceiling ----------------------------------------------------------------------------------


def test_reservations_hold_the_ceiling_even_against_a_stale_copy(repo: Any) -> None:
    payment = captured(repo, new_order(), 5000)
    stale = payment  # read before either reservation, as two racing deliveries read it
    assert repo.reserve_refund(stale, new_refund(payment, 3000, "a"), at(10), at(310), "m-a")
    assert not repo.reserve_refund(stale, new_refund(payment, 2500, "b"), at(11), at(311), "m-b")
    assert repo.get_refund(new_refund(payment, 2500, "b").refund_id) is None  # all or nothing
    assert repo.reserve_refund(stale, new_refund(payment, 2000, "c"), at(12), at(312), "m-c")  # exactly up to it
    assert repo.get_payment(payment.payment_id).refunded_minor_units == 5000
    assert not repo.reserve_refund(stale, new_refund(payment, 1, "d"), at(13), at(313), "m-d")


def test_a_refund_is_reserved_once_and_only_against_a_captured_payment(repo: Any) -> None:
    payment = captured(repo, new_order(), 5000)
    refund = reserved(repo, payment, 1000)
    assert not repo.reserve_refund(payment, refund, at(11), at(311), "msg-2")
    assert repo.get_payment(payment.payment_id).refunded_minor_units == 1000  # the second did not add
    stored = repo.get_refund(refund.refund_id)
    assert stored == refund
    pending = claimed(repo, new_order())
    assert not repo.reserve_refund(pending, new_refund(pending, 100), at(10), at(310), "m")  # not captured
    both = repo.get_payment_and_refund(payment.payment_id, refund.refund_id)
    assert both == (repo.get_payment(payment.payment_id), stored)
    assert repo.get_payment_and_refund(pid(new_order()), "nope") == (None, None)


def test_a_failed_refund_gives_its_amount_back_once(repo: Any) -> None:
    payment = captured(repo, new_order(), 5000)
    refund = reserved(repo, payment, 5000)
    assert repo.fail_reserved_refund(refund, "refund_declined", "no", at(20))
    assert not repo.fail_reserved_refund(refund, "refund_declined", "no", at(21))
    late = repo.approve_refund(refund, "re_late", at(22))  # a stale approval cannot revive it
    assert not late.won and late.current.status is Status.FAILED and not late.current.approved
    assert repo.get_payment(payment.payment_id).refunded_minor_units == 0
    failed = repo.get_refund(refund.refund_id)
    assert (failed.status, failed.failure_code, failed.updated_at) == (Status.FAILED, "refund_declined", at(20))
    assert refund.refund_id not in {r.refund_id for r in repo.unfinished_refunds(at(1_000_000), 1000)}


def test_the_first_answer_recorded_speaks_for_the_refund(repo: Any) -> None:
    payment = captured(repo, new_order(), 5000)
    refund = reserved(repo, payment, 2000)
    approval = repo.approve_refund(refund, "re_1", at(20))
    assert approval.won and approval.current.approved and approval.current.transaction_id == "re_1"
    again = repo.approve_refund(refund, "re_2", at(21))
    assert not again.won and again.current.transaction_id == "re_1"
    assert not repo.fail_reserved_refund(refund, "refund_declined", "stale decline", at(22))
    assert not repo.release_refund_lease(refund.refund_id, "msg-1", nothing_sent=True)
    assert repo.get_payment(payment.payment_id).refunded_minor_units == 2000
    final = replace(approval.current, status=Status.SUCCEEDED, published=True)
    done = repo.finish_refund(final, at(23))
    assert done.won and done.current == replace(final, updated_at=at(23))
    assert not repo.finish_refund(final, at(24)).won
    stored = repo.get_refund(refund.refund_id)
    assert (stored.status, stored.published, stored.processed_at, stored.transaction_id) == (
        Status.SUCCEEDED,
        True,
        at(20),
        "re_1",
    )
    assert refund.refund_id not in {r.refund_id for r in repo.unfinished_refunds(at(1_000_000), 1000)}


def test_a_refused_refund_is_recorded_once(repo: Any) -> None:
    payment = captured(repo, new_order(), 5000)
    refused = replace(new_refund(payment, 9000), status=Status.FAILED, failure_code="exceeds_refundable")
    first = repo.record_refund_failure(refused)
    second = repo.record_refund_failure(replace(refused, failure_reason="another"))
    assert first.won and first.current == refused
    assert not second.won and second.current == refused
    assert refused.refund_id not in {r.refund_id for r in repo.unfinished_refunds(at(1_000_000), 1000)}
    repo.mark_refund_published(refused.refund_id)
    assert repo.get_refund(refused.refund_id).published
    with pytest.raises(Exception):  # noqa: B017 - the adapter's ClientError, the fake's ConditionFailed
        repo.mark_refund_published("no-such-refund")


# --- refunds: leases with owners ---------------------------------------------------------------------------


def test_a_lease_belongs_to_its_owner_until_it_runs_out(repo: Any) -> None:
    refund = reserved(repo, captured(repo, new_order()), 1000, owner="msg-1")  # leased until at(310)
    assert repo.take_refund_lease(refund.refund_id, at(20), at(320), "msg-2") is None
    assert repo.take_refund_lease(refund.refund_id, at(20), at(320), "msg-1") == Lease(False)  # its own
    assert repo.take_refund_lease(refund.refund_id, at(319), at(619), "msg-2") is None
    assert repo.take_refund_lease(refund.refund_id, at(321), at(621), "msg-2") is not None  # ran out
    assert not repo.release_refund_lease(refund.refund_id, "msg-1", nothing_sent=False)  # not its lease any more
    assert repo.release_refund_lease(refund.refund_id, "msg-2", nothing_sent=False)
    assert repo.take_refund_lease(refund.refund_id, at(322), at(622), "msg-3") is not None  # released: free


def test_nothing_sent_is_handed_to_the_next_taker_once(repo: Any) -> None:
    refund = reserved(repo, captured(repo, new_order()), 1000, owner="msg-1")
    assert repo.release_refund_lease(refund.refund_id, "msg-1", nothing_sent=True)
    assert repo.take_refund_lease(refund.refund_id, at(20), at(320), "msg-2") == Lease(True)
    assert repo.release_refund_lease(refund.refund_id, "msg-2", nothing_sent=False)
    assert repo.take_refund_lease(refund.refund_id, at(21), at(321), "msg-3") == Lease(False)


def test_a_refund_the_gateway_settles_later_stays_pending_and_frees_its_lease(repo: Any) -> None:
    refund = reserved(repo, captured(repo, new_order()), 1000, owner="msg-1")
    assert repo.note_refund_pending(refund.refund_id, "re_later", at(20))
    stored = repo.get_refund(refund.refund_id)
    assert (stored.status, stored.transaction_id, stored.updated_at) == (Status.PENDING, "re_later", at(20))
    assert repo.take_refund_lease(refund.refund_id, at(21), at(321), "webhook") is not None
    assert refund.refund_id in {r.refund_id for r in repo.unfinished_refunds(at(1_000_000), 1000)}
    repo.fail_reserved_refund(refund, "refund_declined", "no", at(22))
    assert not repo.note_refund_pending(refund.refund_id, "re_later", at(23))
    assert repo.take_refund_lease(refund.refund_id, at(9999), at(10299), "anyone") is None  # finished: no lease


# --- the two implementations answer alike, field by field -------------------------------------------------


def _payment_lifecycle(repo: Any, order: str) -> list[Any]:
    """Every payment write the service makes, winners and losers, and what each answered."""
    p = pid(order)
    out: list[Any] = [repo.claim_payment(p, payment_trigger(order, event_id="evt-a"), at(0))]
    out.append(repo.claim_payment(p, payment_trigger(order, event_id="evt-b", minor_units=1), at(1)))
    out.append(repo.record_risk_decision(p, RiskDecision(Verdict.ALLOW, "none", score=12.25), at(2)))
    out.append(repo.store_intent(p, "pi_a", at(3)))
    record = repo.get_payment(p)
    out.append(record)
    out.append(repo.require_action(_waiting(record), at(4)))
    final = replace(
        record,
        status=Status.SUCCEEDED,
        transaction_id="ch_a",
        processed_at=at(5),
        radar_outcome="authorized",
        radar_risk_level="normal",
        radar_risk_score=21,
        published=True,
    )
    out.append(repo.finish_payment(final, at(6)))
    out.append(repo.finish_payment(replace(final, status=Status.FAILED, failure_code="card_declined"), at(7)))
    out.append(repo.note_dispute(p, "dp_1"))
    out.append(repo.get_payment(p))
    marker = f"{order}-m"
    out.append(repo.block_payment(pid(marker), marker, payment_trigger(marker, event_id="evt-cancel").meta, at(8)))
    out.append(repo.attach_blocked_payment(pid(marker), payment_trigger(marker, event_id="evt-late"), at(9)))
    repo.mark_payment_published(pid(marker))
    out.append(repo.get_payment(pid(marker)))
    return out


def _refund_lifecycle(repo: Any, order: str) -> list[Any]:
    payment = captured(repo, order, 5000)
    a, b = new_refund(payment, 3000, "a"), new_refund(payment, 2000, "b")
    out: list[Any] = [repo.reserve_refund(payment, a, at(10), at(310), "m-a")]
    out.append(repo.reserve_refund(payment, b, at(11), at(311), "m-b"))
    out.append(repo.take_refund_lease(b.refund_id, at(12), at(312), "m-c"))
    out.append(repo.release_refund_lease(b.refund_id, "m-b", nothing_sent=True))
    out.append(repo.take_refund_lease(b.refund_id, at(13), at(313), "m-c"))
    out.append(repo.note_refund_pending(b.refund_id, "re_b", at(14)))
    out.append(repo.approve_refund(a, "re_a", at(15)))
    out.append(repo.finish_refund(replace(a, status=Status.SUCCEEDED, transaction_id="re_a", published=True), at(16)))
    out.append(repo.fail_reserved_refund(b, "refund_declined", "declined", at(17)))
    out.append(repo.get_payment_and_refund(payment.payment_id, a.refund_id))
    out.append(repo.get_refund(b.refund_id))
    out.append(repo.record_refund_failure(replace(new_refund(payment, 1, "c"), status=Status.FAILED)))
    return out


def test_both_answer_every_payment_write_alike(both: tuple[Any, Any]) -> None:
    memory, dynamo = both
    order = new_order()
    assert _payment_lifecycle(memory, order) == _payment_lifecycle(dynamo, order)


def test_both_answer_every_refund_write_alike(both: tuple[Any, Any]) -> None:
    memory, dynamo = both
    order = new_order()
    assert _refund_lifecycle(memory, order) == _refund_lifecycle(dynamo, order)
