"""The risk rules' pure evaluation (lambda_src/novamart_payments/risk/rules.py): each rule's boundary, minor units
per currency, and the document's schema (issue 20)."""

from __future__ import annotations

import json

import pytest
from novamart_payments.domain import Money
from novamart_payments.risk import ALLOW, FirstBlock, RiskDecision, RiskSubject, Verdict
from novamart_payments.risk.rules import (
    CounterView,
    InvalidRules,
    counted_decision,
    parse_rules,
    static_decision,
    token_hash,
)

AT = "2026-12-01T10:00:00.000Z"
RULES = parse_rules(
    {
        "version": 1,
        "blockList": {"customers": ["cus-bad"], "tokenSha256": [token_hash("pm_bad")]},
        "amountLimits": {"USD": 10_000, "JPY": 10_000, "KWD": 10_000},
        "velocity": [
            {"name": "hourly", "windowSeconds": 3600, "maxOrders": 2},
            {"name": "daily-amount", "windowSeconds": 86400, "maxAmount": {"USD": 5000}},
        ],
        "maxCustomersPerTokenPerDay": 2,
    }
)


def subject(minor: int = 100, currency: str = "USD", customer: str = "cus-ok", token: str = "pm_ok") -> RiskSubject:
    return RiskSubject("ord-x", customer, Money(minor, currency), token, AT)


def orders(*entries: tuple[str, int]) -> CounterView:
    return CounterView(tuple((f"ord-{i}", at, minor, "USD") for i, (at, minor) in enumerate(entries)))


def test_block_lists_name_customers_and_token_hashes_never_tokens() -> None:
    assert static_decision(RULES, subject(customer="cus-bad")).rule == "blocklist.customer"
    assert static_decision(RULES, subject(token="pm_bad")).rule == "blocklist.token"
    assert static_decision(RULES, subject()) == ALLOW


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [(10_001, "USD", "100.01 USD"), (10_001, "JPY", "10001 JPY"), (10_001, "KWD", "10.001 KWD")],
)
def test_the_amount_limit_is_in_minor_units_of_each_currency(minor: int, currency: str, shown: str) -> None:
    assert static_decision(RULES, subject(10_000, currency)) == ALLOW
    blocked = static_decision(RULES, subject(minor, currency))
    assert blocked.blocked and blocked.code == "risk_limit_exceeded" and shown in blocked.reason


def test_velocity_counts_this_order_and_the_window_slides() -> None:
    two = orders(("2026-12-01T09:30:00.000Z", 100), (AT, 100))
    assert counted_decision(RULES, subject(), two) == ALLOW  # 2 in the hour: the limit
    three = orders(("2026-12-01T09:00:00.001Z", 100), ("2026-12-01T09:30:00.000Z", 100), (AT, 100))
    assert counted_decision(RULES, subject(), three).rule == "velocity.hourly"
    aged = orders(("2026-12-01T09:00:00.000Z", 100), ("2026-12-01T09:30:00.000Z", 100), (AT, 100))
    assert counted_decision(RULES, subject(), aged) == ALLOW  # exactly an hour old: out of the window


def test_velocity_by_amount_sums_one_currency() -> None:
    other = CounterView((("a", AT, 4500, "USD"), ("b", AT, 900_000, "EUR")))
    assert counted_decision(RULES, subject(), other) == ALLOW  # EUR has no amount limit
    within = CounterView((("a", AT, 4000, "USD"), ("c", AT, 1000, "USD")))
    assert counted_decision(RULES, subject(), within) == ALLOW
    over = CounterView((("a", AT, 4000, "USD"), ("c", AT, 1001, "USD")))
    assert counted_decision(RULES, subject(), over).rule == "velocity.daily-amount"


def test_customers_per_token_per_day() -> None:
    assert counted_decision(RULES, subject(), CounterView((), 2)) == ALLOW
    assert counted_decision(RULES, subject(), CounterView((), 3)).rule == "token_customers"


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"version": 2}, "/version"),
        ({"version": 1, "amountLimits": {"USD": 0}}, "/amountLimits/USD"),
        ({"version": 1, "velocity": [{"name": "x", "windowSeconds": 3600}]}, "/velocity/0"),
        ({"version": 1, "blockList": {"tokenSha256": ["pm_card_visa"]}}, "/blockList/tokenSha256/0"),
        ({"version": 1, "surprise": True}, "surprise"),
    ],
)
def test_an_invalid_document_is_refused_naming_where(doc: dict[str, object], pointer: str) -> None:
    with pytest.raises(InvalidRules) as refused:
        parse_rules(json.dumps(doc))
    assert pointer in str(refused.value)


def test_an_unsupported_currency_is_refused() -> None:
    with pytest.raises(InvalidRules, match="XXX"):
        parse_rules({"version": 1, "amountLimits": {"XXX": 5}})


def test_the_first_block_decides_and_later_checks_are_not_asked() -> None:
    asked: list[str] = []

    class Check:
        def __init__(self, name: str, verdict: Verdict) -> None:
            self.name, self.verdict = name, verdict

        def assess(self, s: RiskSubject) -> RiskDecision:
            asked.append(self.name)
            return RiskDecision(self.verdict, self.name)

    decision = FirstBlock(Check("rules", Verdict.BLOCK), Check("scorer", Verdict.ALLOW)).assess(subject())
    assert decision.rule == "rules" and asked == ["rules"]


def test_a_decision_survives_its_round_trip_through_dynamodb() -> None:
    blocked = static_decision(RULES, subject(customer="cus-bad"))
    assert RiskDecision.from_item(blocked.to_item()) == blocked
    assert "pm_" not in repr(subject(token="pm_secret"))
