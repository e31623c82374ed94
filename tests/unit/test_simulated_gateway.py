"""The simulated gateway keeps Stripe's idempotency contract and test-token outcomes."""

from __future__ import annotations

import pytest
from novamart_payments.domain import Money
from novamart_payments.gateway import IdempotencyKeyReused, TransientGatewayError
from novamart_payments.gateway.simulated import SimulatedGateway

USD = Money(1000, "USD")


def charge(gw: SimulatedGateway, key: str = "pay:o1", token: str = "pm_card_visa", amount: Money = USD):  # type: ignore[no-untyped-def]
    return gw.charge(idempotency_key=key, amount=amount, token=token, customer_id="cus-1")


def test_same_key_same_parameters_replays_the_first_result() -> None:
    gw = SimulatedGateway()
    first, second = charge(gw), charge(gw)
    assert first == second and first.approved
    assert len(gw.ledger()) == 1


def test_same_key_different_parameters_is_an_error() -> None:
    gw = SimulatedGateway()
    charge(gw)
    with pytest.raises(IdempotencyKeyReused):
        charge(gw, amount=Money(2000, "USD"))
    assert len(gw.ledger()) == 1


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error"),
        ("pm_card_threeDSecure2Required", "authentication_required"),
        ("tok_chargeDeclined", "card_declined"),
    ],
)
def test_decline_tokens(token: str, code: str) -> None:
    gw = SimulatedGateway()
    result = charge(gw, token=token)
    assert (result.approved, result.code) == (False, code)
    assert gw.ledger() == []


def test_chained_token_fails_transiently_then_succeeds_once() -> None:
    gw = SimulatedGateway()
    for _ in range(2):
        with pytest.raises(TransientGatewayError):
            charge(gw, token="pm_sim_transient2_visa")
    assert charge(gw, token="pm_sim_transient2_visa").approved
    assert charge(gw, token="pm_sim_transient2_visa").approved
    assert len(gw.ledger()) == 1


def test_refunds_never_exceed_the_charge() -> None:
    gw = SimulatedGateway()
    txn = charge(gw).transaction_id
    assert txn is not None
    assert gw.refund(idempotency_key="r1", transaction_id=txn, amount=Money(600, "USD")).approved
    refused = gw.refund(idempotency_key="r2", transaction_id=txn, amount=Money(600, "USD"))
    assert (refused.approved, refused.code) == (False, "amount_too_large")
    assert gw.refund(idempotency_key="r1", transaction_id=txn, amount=Money(600, "USD")).approved  # replay
    assert sum(e.amount.minor_units for e in gw.ledger() if e.kind == "refund") == 600


def test_ledger_never_holds_the_token() -> None:
    gw = SimulatedGateway()
    charge(gw)
    assert "pm_card_visa" not in repr(gw.ledger()) + repr(gw._results)
