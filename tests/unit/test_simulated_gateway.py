"""The simulator protects nothing (like localstripe) but keeps the one property every gateway has: a handle is
decided once. Its memory stays bounded."""

from __future__ import annotations

import pytest
from novamart_payments.domain import Money
from novamart_payments.gateway import ChargeRequest, Outcome, RefundRequest, TransientGatewayError
from novamart_payments.gateway.simulated import SimulatedGateway

USD = Money(1000, "USD")


def request(order: str = "o1", token: str = "pm_card_visa", amount: Money = USD) -> ChargeRequest:
    return ChargeRequest("pay:" + order, order, "p-" + order, "cus-1", "corr", amount, token)


def test_a_handle_succeeds_once_however_often_it_is_completed() -> None:
    gw = SimulatedGateway()
    handle = gw.begin_charge(request())
    first = gw.complete_charge(handle, request())
    assert first.approved and gw.complete_charge(handle, request()) == first
    assert [e.kind for e in gw.movements("o1")] == ["charge"]


def test_the_same_key_is_not_deduplicated() -> None:
    gw = SimulatedGateway()
    for _ in range(2):
        gw.complete_charge(gw.begin_charge(request()), request())
    assert len(gw.movements("o1")) == 2  # the service, not the gateway, must prevent this


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_unknown", "invalid_payment_method"),
    ],
)
def test_declines_carry_their_code_and_move_no_money(token: str, code: str) -> None:
    gw = SimulatedGateway()
    result = gw.complete_charge(gw.begin_charge(request(token=token)), request(token=token))
    assert result.outcome is Outcome.DECLINED and result.code == code
    assert gw.movements("o1") == []


@pytest.mark.parametrize(("success", "outcome", "moves"), [(True, Outcome.APPROVED, 1), (False, Outcome.DECLINED, 0)])
def test_three_d_secure_waits_for_the_customer_then_is_decided_once(
    success: bool, outcome: Outcome, moves: int
) -> None:
    gw = SimulatedGateway()
    req = request(token="pm_card_threeDSecure2Required")
    handle = gw.begin_charge(req)
    assert gw.charge_status(handle).outcome is Outcome.NOT_STARTED
    waiting = gw.complete_charge(handle, req)
    assert waiting.outcome is Outcome.REQUIRES_ACTION and waiting.action == "three_d_secure"
    assert gw.charge_status(handle).outcome is Outcome.REQUIRES_ACTION and gw.movements("o1") == []
    gw.authenticate(handle, success=success)
    assert gw.charge_status(handle).outcome is outcome and gw.complete_charge(handle, req).outcome is outcome
    assert gw.cancel_charge(handle).outcome is outcome  # a decided handle cannot be cancelled
    assert len(gw.movements("o1")) == moves


def test_a_cancelled_handle_is_never_charged() -> None:
    gw = SimulatedGateway()
    handle = gw.begin_charge(request())
    cancelled = gw.cancel_charge(handle)
    assert cancelled.outcome is Outcome.DECLINED and cancelled.code == "payment_canceled"
    assert gw.complete_charge(handle, request()) == cancelled and gw.movements("o1") == []


def test_transient_chain_fails_n_times_per_handle_then_succeeds() -> None:
    gw = SimulatedGateway()
    req = request(token="pm_sim_transient2_visa")
    handle = gw.begin_charge(req)
    for _ in range(2):
        with pytest.raises(TransientGatewayError):
            gw.complete_charge(handle, req)
    assert gw.complete_charge(handle, req).approved


def test_refunds_are_not_capped_and_are_found_by_refund_id() -> None:
    gw = SimulatedGateway()
    handle = gw.begin_charge(request())
    gw.complete_charge(handle, request())
    big = RefundRequest("k", "o1", "r1", handle, Money(5000, "USD"))
    assert gw.refund(big).approved  # over the captured 1000: the service's ceiling must stop this
    found = gw.find_refund(big)
    assert found is not None and found.approved
    assert gw.find_refund(RefundRequest("k", "o1", "r2", handle, USD)) is None


def test_refund_of_an_unknown_charge_is_declined() -> None:
    result = SimulatedGateway().refund(RefundRequest("k", "o1", "r1", "pi_sim_nope", USD))
    assert result.outcome is Outcome.DECLINED and result.code == "charge_not_found"


def test_ledger_and_handles_stay_bounded() -> None:
    gw = SimulatedGateway(max_orders=50)
    for i in range(500):
        gw.complete_charge(gw.begin_charge(request(f"o{i}")), request(f"o{i}"))
    assert len(gw.ledger()) == 50
    assert len(gw._intents) <= 100
    assert gw.movements("o499") and not gw.movements("o0")  # the oldest orders are forgotten first
