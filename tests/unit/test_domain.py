"""The pure decisions, enumerated without AWS."""

from __future__ import annotations

import pytest
from novamart_payments import domain
from novamart_payments.domain import (
    Money,
    PaymentAction,
    PaymentRecord,
    PaymentTrigger,
    RefundAction,
    RefundRecord,
    RefundTrigger,
    Status,
    TriggerMeta,
)

META = TriggerMeta(event_id="e1", correlation_id="c1", request_id=None)
USD_100 = Money(10_000, "USD")


def trigger(amount: Money = USD_100, customer: str = "cus-1") -> PaymentTrigger:
    return PaymentTrigger("ord-1", customer, amount, "pm_card_visa", META)


def payment(status: Status = Status.SUCCEEDED, **kw: object) -> PaymentRecord:
    fields: dict[str, object] = {
        "payment_id": domain.payment_id_for("ord-1"),
        "order_id": "ord-1",
        "status": status,
        "customer_id": "cus-1",
        "amount": USD_100,
        "transaction_id": "ch_1",
    }
    fields.update(kw)
    return PaymentRecord(**fields)  # type: ignore[arg-type]


def refund_trigger(amount: Money | None = None, request_id: str | None = None) -> RefundTrigger:
    return RefundTrigger("ord-1", "cancelled", amount, TriggerMeta("e2", "c1", request_id))


# --- ids and keys ------------------------------------------------------------------------------------------


def test_payment_id_is_stable_per_order_and_distinct_between_orders() -> None:
    assert domain.payment_id_for("ord-1") == domain.payment_id_for("ord-1")
    assert domain.payment_id_for("ord-1") != domain.payment_id_for("ord-2")


def test_charge_key_names_the_order() -> None:
    assert domain.charge_key("ord-1") == "pay:ord-1"


def test_full_refunds_share_one_key_per_order_whatever_the_trigger() -> None:
    a = RefundTrigger("ord-1", "cancelled", None, TriggerMeta("e1", "c", None))
    b = RefundTrigger("ord-1", "reservation failed", None, TriggerMeta("e2", "c", "r9"))
    assert domain.refund_key(a) == domain.refund_key(b) == "refund:ord-1"


def test_partial_refunds_are_keyed_by_request_id() -> None:
    first = refund_trigger(Money(100, "USD"), request_id="r1")
    again = RefundTrigger("ord-1", "other text", Money(100, "USD"), TriggerMeta("e-new", "c", "r1"))
    second = refund_trigger(Money(100, "USD"), request_id="r2")
    assert domain.refund_key(first) == domain.refund_key(again)
    assert domain.refund_key(first) != domain.refund_key(second)


def test_partial_refund_without_request_id_falls_back_to_event_id() -> None:
    t = RefundTrigger("ord-1", "x", Money(1, "USD"), TriggerMeta("evt-7", "c", None))
    assert domain.refund_key(t) == "refund:ord-1:evt-7"


def test_outcome_event_id_is_deterministic_per_outcome() -> None:
    assert domain.outcome_event_id("payment.succeeded", "p1") == domain.outcome_event_id("payment.succeeded", "p1")
    assert domain.outcome_event_id("payment.succeeded", "p1") != domain.outcome_event_id("payment.failed", "p1")


def test_trigger_repr_hides_the_token() -> None:
    assert "pm_card_visa" not in repr(trigger())


# --- payment decisions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "incoming", "expected"),
    [
        (None, trigger(), PaymentAction.CLAIM_AND_CHARGE),
        (payment(Status.PENDING), trigger(), PaymentAction.RESUME_CHARGE),
        (payment(Status.SUCCEEDED, published=True), trigger(), PaymentAction.DUPLICATE),
        (payment(Status.SUCCEEDED, published=False), trigger(), PaymentAction.PUBLISH_OUTCOME),
        (payment(Status.FAILED, published=False), trigger(), PaymentAction.PUBLISH_OUTCOME),
        (payment(Status.FAILED, published=True), trigger(), PaymentAction.DUPLICATE),
        (payment(Status.SUCCEEDED), trigger(Money(1, "USD")), PaymentAction.REJECT_MISMATCH),
        (payment(Status.SUCCEEDED), trigger(Money(10_000, "EUR")), PaymentAction.REJECT_MISMATCH),
        (payment(Status.PENDING), trigger(customer="cus-2"), PaymentAction.REJECT_MISMATCH),
        (
            payment(Status.FAILED, amount=None, customer_id=None, cancelled_before_payment=True),
            trigger(),
            PaymentAction.BLOCK_CANCELLED,
        ),
        (payment(Status.FAILED, cancelled_before_payment=True, published=True), trigger(), PaymentAction.DUPLICATE),
        (
            payment(Status.FAILED, cancelled_before_payment=True, published=False),
            trigger(),
            PaymentAction.PUBLISH_OUTCOME,
        ),
        (
            payment(Status.FAILED, cancelled_before_payment=True),
            trigger(Money(5, "USD")),
            PaymentAction.REJECT_MISMATCH,
        ),
    ],
)
def test_decide_payment(existing: PaymentRecord | None, incoming: PaymentTrigger, expected: PaymentAction) -> None:
    assert domain.decide_payment(existing, incoming).action is expected


def test_mismatch_reason_names_the_fields() -> None:
    decision = domain.decide_payment(payment(), trigger(Money(1, "USD"), customer="cus-9"))
    assert "amount" in decision.reason and "customerId" in decision.reason


# --- refund decisions --------------------------------------------------------------------------------------


def test_refund_without_payment_blocks_the_payment() -> None:
    assert domain.decide_refund(None, None, refund_trigger()).action is RefundAction.BLOCK_PAYMENT


def test_refund_after_cancel_before_pay_is_recorded_as_failure() -> None:
    blocked = payment(Status.FAILED, amount=None, customer_id=None, cancelled_before_payment=True)
    decision = domain.decide_refund(blocked, None, refund_trigger())
    assert (decision.action, decision.code) == (RefundAction.RECORD_FAILURE, "no_payment")


def test_refund_waits_while_payment_is_pending() -> None:
    assert domain.decide_refund(payment(Status.PENDING), None, refund_trigger()).action is RefundAction.WAIT_FOR_PAYMENT


def test_refund_of_failed_payment_refunds_nothing() -> None:
    decision = domain.decide_refund(payment(Status.FAILED), None, refund_trigger())
    assert (decision.action, decision.code, decision.amount) == (
        RefundAction.RECORD_FAILURE,
        "payment_not_captured",
        None,
    )


def test_full_refund_takes_the_remaining_amount() -> None:
    decision = domain.decide_refund(payment(refunded_minor_units=2500), None, refund_trigger())
    assert decision.action is RefundAction.RESERVE_AND_REFUND
    assert decision.amount == Money(7500, "USD")


def test_full_refund_of_fully_refunded_payment_fails() -> None:
    decision = domain.decide_refund(payment(refunded_minor_units=10_000), None, refund_trigger())
    assert decision.code == "nothing_to_refund"


@pytest.mark.parametrize(
    ("requested", "refunded", "action", "code"),
    [
        (Money(10_000, "USD"), 0, RefundAction.RESERVE_AND_REFUND, ""),
        (Money(10_001, "USD"), 0, RefundAction.RECORD_FAILURE, "exceeds_refundable"),
        (Money(5_000, "USD"), 5_000, RefundAction.RESERVE_AND_REFUND, ""),
        (Money(5_001, "USD"), 5_000, RefundAction.RECORD_FAILURE, "exceeds_refundable"),
        (Money(100, "EUR"), 0, RefundAction.RECORD_FAILURE, "currency_mismatch"),
    ],
)
def test_partial_refund_ceiling_and_currency(requested: Money, refunded: int, action: RefundAction, code: str) -> None:
    decision = domain.decide_refund(payment(refunded_minor_units=refunded), None, refund_trigger(requested, "r1"))
    assert (decision.action, decision.code) == (action, code)


def test_existing_refund_decides_before_the_payment_is_consulted() -> None:
    pending = RefundRecord("r", "ord-1", Status.PENDING, Money(1, "USD"))
    done = RefundRecord("r", "ord-1", Status.SUCCEEDED, Money(1, "USD"), published=True)
    unpublished = RefundRecord("r", "ord-1", Status.FAILED, None, published=False)
    assert domain.decide_refund(None, pending, refund_trigger()).action is RefundAction.RESUME_REFUND
    assert domain.decide_refund(None, done, refund_trigger()).action is RefundAction.DUPLICATE
    assert domain.decide_refund(None, unpublished, refund_trigger()).action is RefundAction.PUBLISH_OUTCOME


def test_a_reused_refund_request_with_another_amount_is_rejected() -> None:
    from novamart_payments.domain import RefundAction, RefundRecord, RefundTrigger, Status, TriggerMeta, decide_refund

    meta = TriggerMeta("e2", "c", "rma-1")
    existing = RefundRecord("r1", "o1", Status.SUCCEEDED, Money(1000, "USD"), published=True)
    decision = decide_refund(None, existing, RefundTrigger("o1", "again", Money(3000, "USD"), meta))
    assert decision.action is RefundAction.REJECT_MISMATCH
    same = decide_refund(None, existing, RefundTrigger("o1", "again", Money(1000, "USD"), meta))
    assert same.action is RefundAction.DUPLICATE
