"""The cases of ``make demo``: the orders sent through every path, and the outcome each must produce."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tools.devstack.audit import PublishedEvent
from tools.devstack.events import payment_data, refund_data, trigger_event
from tools.devstack.output import format_money

Want = dict[str, int]  # detail-type -> number of distinct published events


@dataclass
class Case:
    key: str
    title: str
    order_id: str
    first: list[dict[str, Any]]  # events sent in phase 1
    then: list[dict[str, Any]] = field(default_factory=list)  # events sent once phase 1's outcome is there
    first_want: Want = field(default_factory=dict)
    want: Want = field(default_factory=dict)
    checks: list[tuple[str, Callable[[list[PublishedEvent], list[dict[str, Any]]], bool]]] = field(default_factory=list)
    dead_letter: bool = False
    in_dlq: bool = False
    authenticate: bool = False  # phase 2 is the customer completing 3-D Secure at Stripe, not an event
    verdict: str = ""


def amount_is(detail_type: str, minor: int, currency: str) -> tuple[str, Callable[..., bool]]:
    def check(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
        return any(
            e.detail_type == detail_type and e.data.get("amount") == {"minorUnits": minor, "currency": currency}
            for e in events
        )

    return f"{detail_type} for {format_money(minor, currency)}", check


def code_is(detail_type: str, code: str) -> tuple[str, Callable[..., bool]]:
    def check(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
        return any(e.detail_type == detail_type and e.data.get("code") == code for e in events)

    return f"{detail_type} code {code}", check


def one_payment_record(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
    return len(payments) == 1


def build_cases(run: str) -> list[Case]:
    def oid(name: str) -> str:
        return f"demo-{run}-{name}"

    def pay(
        order_id: str, minor: int, currency: str, token: str = "pm_card_visa", customer: str = ""
    ) -> dict[str, Any]:
        data = payment_data(order_id, minor, currency, token, customer or f"cus-demo-{run}")
        return trigger_event("order.ready_for_payment", data, correlation_id=f"corr-{order_id}")

    def cancel(order_id: str, amount: tuple[int, str] | None = None) -> dict[str, Any]:
        reason = "Item returned" if amount else "Customer cancelled the order"
        request_id = f"rma-{order_id}" if amount else None
        return trigger_event(
            "order.cancelled",
            refund_data(order_id, reason, amount),
            correlation_id=f"corr-{order_id}",
            request_id=request_id,
        )

    duplicate = pay(oid("duplicate"), 2599, "USD")
    invalid = pay(oid("invalid"), 4999, "USD")
    invalid = copy.deepcopy(invalid)
    del invalid["detail"]["data"]["customerId"]
    return [
        Case(
            "usd",
            "Payment in USD (2 digits)",
            oid("usd"),
            [pay(oid("usd"), 4999, "USD")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 4999, "USD")],
        ),
        Case(
            "jpy",
            "Payment in JPY (0 digits)",
            oid("jpy"),
            [pay(oid("jpy"), 5400, "JPY")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 5400, "JPY")],
        ),
        Case(
            "kwd",
            "Payment in KWD (3 digits)",
            oid("kwd"),
            [pay(oid("kwd"), 12345, "KWD")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 12345, "KWD")],
        ),
        Case(
            "decline",
            "Card declined",
            oid("decline"),
            [pay(oid("decline"), 3000, "EUR", "pm_card_chargeDeclined")],
            want={"payment.failed": 1},
            checks=[code_is("payment.failed", "card_declined")],
        ),
        Case(
            "duplicate",
            "Same trigger delivered twice",
            oid("duplicate"),
            [duplicate, duplicate],
            want={"payment.succeeded": 1},
            checks=[("one payment record", one_payment_record)],
        ),
        Case(
            "cancel",
            "Cancelled after payment",
            oid("cancel"),
            [pay(oid("cancel"), 4200, "USD")],
            then=[cancel(oid("cancel"))],
            first_want={"payment.succeeded": 1},
            want={"payment.succeeded": 1, "refund.succeeded": 1},
            checks=[amount_is("refund.succeeded", 4200, "USD")],
        ),
        Case(
            "partial",
            "Partial refund",
            oid("partial"),
            [pay(oid("partial"), 10000, "USD")],
            then=[cancel(oid("partial"), (2500, "USD"))],
            first_want={"payment.succeeded": 1},
            want={"payment.succeeded": 1, "refund.succeeded": 1},
            checks=[amount_is("refund.succeeded", 2500, "USD")],
        ),
        Case(
            "cancel-first",
            "Cancelled before payment",
            oid("cancel-first"),
            [cancel(oid("cancel-first"))],
            then=[pay(oid("cancel-first"), 1500, "USD")],
            first_want={"refund.failed": 1},
            want={"refund.failed": 1, "payment.failed": 1},
            checks=[code_is("refund.failed", "no_payment"), code_is("payment.failed", "order_cancelled")],
        ),
        Case(
            "invalid",
            "Invalid event (no customerId)",
            oid("invalid"),
            [invalid],
            want={},
            dead_letter=True,
        ),
        Case(
            "3ds",
            "3-D Secure, then the customer authenticates",
            oid("3ds"),
            [pay(oid("3ds"), 7400, "GBP", "pm_card_threeDSecure2Required")],
            authenticate=True,
            first_want={"payment.action_required": 1},
            want={"payment.action_required": 1, "payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 7400, "GBP")],
        ),
        Case(
            "fraud-rule",
            "Blocked by a risk rule (block list), no Stripe request",
            oid("fraud-rule"),
            # cus-fraud-demo is on the block list of terraform/envs/local/risk-rules.json (docs/risk.md)
            [pay(oid("fraud-rule"), 2500, "USD", customer="cus-fraud-demo")],
            want={"payment.failed": 1},
            checks=[code_is("payment.failed", "fraud_suspected")],
        ),
        Case(
            "radar",
            "Blocked by Stripe Radar",
            oid("radar"),
            [pay(oid("radar"), 3100, "USD", "pm_card_radarBlock")],
            want={"payment.failed": 1},
            checks=[code_is("payment.failed", "radar_blocked")],
        ),
        Case(
            "transient",
            "Gateway fails twice, then accepts",
            oid("transient"),
            [pay(oid("transient"), 6100, "USD", "pm_sim_transient2_visa")],
            want={"payment.succeeded": 1},
        ),
    ]
