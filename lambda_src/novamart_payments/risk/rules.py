"""Rules as data: the document's checked form and the pure evaluation of one order against it.

The document (JSON, its JSON Schema beside this module) lives in SSM Parameter Store, set by Terraform; the
adapter (``adapters.RulesCheck``) reads it and counts the order, then asks ``evaluate`` here. Nothing here reads
AWS, so every rule's boundary is a unit test.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from novamart_payments.failure_codes import PaymentFailureCode
from novamart_payments.money import currency_exponent, format_amount
from novamart_payments.risk import ALLOW, RiskDecision, RiskSubject, Verdict
from novamart_payments.timestamps import parse

SCHEMA_PATH = Path(__file__).with_name("rules.schema.json")


class InvalidRules(ValueError):
    """The rules document does not satisfy its schema; the message names where and why."""


@dataclass(frozen=True, slots=True)
class Velocity:
    name: str
    window_seconds: int
    max_orders: int | None = None
    max_amount: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rules:
    blocked_customers: frozenset[str] = frozenset()
    blocked_token_hashes: frozenset[str] = frozenset()
    amount_limits: Mapping[str, int] = field(default_factory=dict)
    velocity: tuple[Velocity, ...] = ()
    max_customers_per_token_per_day: int | None = None

    @property
    def longest_window_seconds(self) -> int:
        return max((v.window_seconds for v in self.velocity), default=0)


@functools.cache
def _validator() -> Any:
    """The document's schema compiled with the runtime's engine (jsonschema-rs, as contracts.py)."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def parse_rules(raw: str | bytes | Mapping[str, Any]) -> Rules:
    """The checked rules, or ``InvalidRules`` naming every problem (JSON pointer and message)."""
    try:
        doc = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError as err:
        raise InvalidRules(f"rules document is not JSON: {err}") from None
    problems = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.instance_path])
    if problems:
        where = "; ".join(f"/{'/'.join(str(p) for p in e.instance_path)}: {e.message}" for e in problems[:10])
        raise InvalidRules(f"rules document violates rules.schema.json: {where}")
    unknown = [c for c in _currencies(doc) if not _known_currency(c)]
    if unknown:
        raise InvalidRules(f"rules document names currencies the service does not support: {', '.join(unknown)}")
    blocks = doc.get("blockList", {})
    return Rules(
        blocked_customers=frozenset(blocks.get("customers", ())),
        blocked_token_hashes=frozenset(blocks.get("tokenSha256", ())),
        amount_limits=dict(doc.get("amountLimits", {})),
        velocity=tuple(
            Velocity(v["name"], v["windowSeconds"], v.get("maxOrders"), dict(v.get("maxAmount", {})))
            for v in doc.get("velocity", ())
        ),
        max_customers_per_token_per_day=doc.get("maxCustomersPerTokenPerDay"),
    )


def _currencies(doc: Mapping[str, Any]) -> list[str]:
    found = list(doc.get("amountLimits", {}))
    for v in doc.get("velocity", ()):
        found += list(v.get("maxAmount", {}))
    return sorted(set(found))


def _known_currency(code: str) -> bool:
    try:
        currency_exponent(code)
    except Exception:
        return False
    return True


def token_hash(token: str) -> str:
    """How the rules and the counters name a token: its SHA-256, so neither ever holds the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CounterView:
    """What the counters say about the order, read back from the write that counted it (counters.py).

    ``orders``: the customer's counted orders as ``(order_id, claimed_at, minor_units, currency)``, this one included;
    ``token_customers``: distinct customers the token paid for on the order's day, this one's included."""

    orders: tuple[tuple[str, str, int, str], ...] = ()
    token_customers: int = 0


def static_decision(rules: Rules, subject: RiskSubject) -> RiskDecision:
    """The rules that need no counter: block lists and the amount limit of one order."""
    if subject.customer_id in rules.blocked_customers:
        return _block("blocklist.customer", PaymentFailureCode.FRAUD_SUSPECTED, "the customer is on the block list")
    if token_hash(subject.token) in rules.blocked_token_hashes:
        return _block("blocklist.token", PaymentFailureCode.FRAUD_SUSPECTED, "the payment method is on the block list")
    limit = rules.amount_limits.get(subject.amount.currency)
    if limit is not None and subject.amount.minor_units > limit:
        currency = subject.amount.currency
        return _block(
            f"amount_limit.{currency}",
            PaymentFailureCode.RISK_LIMIT_EXCEEDED,
            f"{format_amount(subject.amount.minor_units, currency)} is above the limit of "
            f"{format_amount(limit, currency)} per order",
        )
    return ALLOW


def counted_decision(rules: Rules, subject: RiskSubject, view: CounterView) -> RiskDecision:
    """The rules over counters: velocity per customer and customers per token and day."""
    claimed = parse(subject.claimed_at)
    for rule in rules.velocity:
        inside = [o for o in view.orders if (claimed - parse(o[1])).total_seconds() < rule.window_seconds]
        if rule.max_orders is not None and len(inside) > rule.max_orders:
            return _block(
                f"velocity.{rule.name}",
                PaymentFailureCode.RISK_LIMIT_EXCEEDED,
                f"{len(inside)} orders in {rule.window_seconds} s, limit {rule.max_orders}",
            )
        for currency, most in sorted(rule.max_amount.items()):
            total = sum(o[2] for o in inside if o[3] == currency)
            if total > most:
                return _block(
                    f"velocity.{rule.name}",
                    PaymentFailureCode.RISK_LIMIT_EXCEEDED,
                    f"{format_amount(total, currency)} in {rule.window_seconds} s, "
                    f"limit {format_amount(most, currency)}",
                )
    most_customers = rules.max_customers_per_token_per_day
    if most_customers is not None and view.token_customers > most_customers:
        return _block(
            "token_customers",
            PaymentFailureCode.RISK_LIMIT_EXCEEDED,
            f"the payment method paid for {view.token_customers} customers today, limit {most_customers}",
        )
    return ALLOW


def _block(rule: str, code: PaymentFailureCode, why: str) -> RiskDecision:
    reason = f"Blocked by the risk check (rule {rule}: {why}); nothing was charged."
    return RiskDecision(Verdict.BLOCK, rule, code, reason)
