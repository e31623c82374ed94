"""The risk port: a decision about an order before any gateway request (issue 20).

The service consults it after the claim (so a duplicate never reaches it) and before the gateway (so a blocked order
costs no gateway request), then stores the decision on the claim: every redelivery and the order's second trigger
read the stored decision instead of asking again, so an order is never allowed by one delivery and blocked by the
next. Adapters (rules as data, an external scorer) live beside this module; nothing here talks to AWS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from novamart_payments.failure_codes import PaymentFailureCode

if TYPE_CHECKING:
    from novamart_payments.money import Money


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Optional signals a producer may add to a payment trigger (``data.riskContext``), passed on to the checks and
    to the gateway's fraud screening (Stripe Radar). None of them is a card or a token."""

    client_ip: str | None = None
    email_sha256: str | None = None
    shipping_country: str | None = None
    session_id: str | None = None

    @classmethod
    def from_event(cls, raw: dict[str, Any] | None) -> RiskContext:
        raw = raw or {}
        return cls(
            client_ip=raw.get("clientIp"),
            email_sha256=raw.get("emailSha256"),
            shipping_country=raw.get("shippingCountry"),
            session_id=raw.get("sessionId"),
        )


NO_CONTEXT = RiskContext()


@dataclass(frozen=True, slots=True)
class RiskSubject:
    """What a check may look at: the order as claimed. ``claimed_at`` dates the order in every counter, so the
    order's place in a velocity window does not depend on which delivery counts it."""

    order_id: str
    customer_id: str
    amount: Money
    token: str = field(repr=False)  # used for hashing only; never logged, stored or sent anywhere
    claimed_at: str
    context: RiskContext = NO_CONTEXT


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Allow or block, the rule that decided (``rule``: e.g. ``velocity.orders-per-hour``, ``scorer``) and, for a
    block, the ``payment.failed`` code it is published with."""

    verdict: Verdict
    rule: str = ""
    code: PaymentFailureCode | None = None
    reason: str = ""
    score: float | None = None

    @property
    def blocked(self) -> bool:
        return self.verdict is Verdict.BLOCK

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB map stored on the payment's claim."""
        item: dict[str, Any] = {"verdict": {"S": self.verdict.value}, "rule": {"S": self.rule}}
        if self.code is not None:
            item["code"] = {"S": self.code.value}
        if self.reason:
            item["reason"] = {"S": self.reason}
        if self.score is not None:
            item["score"] = {"N": repr(self.score)}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RiskDecision:
        code = item.get("code", {}).get("S")
        score = item.get("score", {}).get("N")
        return cls(
            verdict=Verdict(item["verdict"]["S"]),
            rule=item.get("rule", {}).get("S", ""),
            code=PaymentFailureCode(code) if code else None,
            reason=item.get("reason", {}).get("S", ""),
            score=float(score) if score is not None else None,
        )


ALLOW = RiskDecision(Verdict.ALLOW, "none")


class RiskCheck(Protocol):
    """A source of risk decisions. ``assess`` may be called more than once for one order (a crash before the
    decision was stored): it must count the order at most once and may not move money."""

    def assess(self, subject: RiskSubject) -> RiskDecision: ...


class AllowAll:
    """No risk check configured: every order is allowed (the service's behaviour before issue 20)."""

    def assess(self, subject: RiskSubject) -> RiskDecision:
        return ALLOW


class FirstBlock:
    """Composes checks in order: the first block decides; later checks (an external scorer, which costs a request
    and time) are asked only about orders the earlier ones allow."""

    def __init__(self, *checks: RiskCheck) -> None:
        self._checks = checks

    def assess(self, subject: RiskSubject) -> RiskDecision:
        decision = ALLOW
        for check in self._checks:
            decision = check.assess(subject)
            if decision.blocked:
                return decision
        return decision
