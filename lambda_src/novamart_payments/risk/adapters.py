"""The risk port's adapters: rules as data (SSM Parameter Store + DynamoDB counters) and the external scorer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from novamart_payments.risk import RiskDecision, RiskSubject
from novamart_payments.risk.counters import Counters
from novamart_payments.risk.rules import InvalidRules, Rules, counted_decision, parse_rules, static_decision
from novamart_payments.telemetry import count, logger


class RulesUnavailable(RuntimeError):
    """No valid rules document has been read yet in this container: the record is retried (never charged
    unchecked); the RiskRulesInvalid alarm names the cause."""


class RiskMetric:
    ALLOWED = "RiskAllowed"
    BLOCKED = "RiskBlocked"  # also one metric per rule: RiskBlocked.<rule>
    RULES_INVALID = "RiskRulesInvalid"
    SCORER_ERROR = "RiskScorerError"


class RulesSource:
    """The rules document, read through ``fetch`` (Powertools Parameters, cached ``max_age`` seconds) and checked
    against its schema on every fresh read. A document that fails the check is refused with a clear error log
    and a metric, and the last good rules of this container stay in force until a valid one is published."""

    def __init__(self, fetch: Callable[[], str], name: str = "") -> None:
        self._fetch = fetch
        self._name = name
        self._lock = threading.Lock()
        self._last_raw: str | None = None
        self._last_good: Rules | None = None

    def current(self) -> Rules:
        raw = self._fetch()
        with self._lock:
            if raw == self._last_raw and self._last_good is not None:
                return self._last_good
            try:
                rules = parse_rules(raw)
            except InvalidRules as err:
                count(RiskMetric.RULES_INVALID)
                logger.error(
                    "risk rules document refused; the last good rules stay in force",
                    extra={"parameter": self._name, "why": str(err), "has_last_good": self._last_good is not None},
                )
                if self._last_good is None:
                    raise RulesUnavailable(f"no valid risk rules in {self._name or 'the parameter'}: {err}") from None
                return self._last_good
            self._last_raw, self._last_good = raw, rules
            return rules


def ssm_fetch(name: str, max_age_seconds: int) -> Callable[[], str]:
    """Read the parameter through Powertools Parameters (its cache honours ``max_age``): a rules change is seen
    within that many seconds by every warm container, without a deploy."""

    providers: list[Any] = []

    def fetch() -> str:
        if not providers:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            from novamart_payments import clients

            providers.append(SSMProvider(boto3_client=clients.ssm()))
        return str(providers[0].get(name, max_age=max_age_seconds))

    return fetch


def _counted(decision: RiskDecision) -> RiskDecision:
    if decision.blocked:
        count(RiskMetric.BLOCKED)
        count(f"{RiskMetric.BLOCKED}.{decision.rule}")
        logger.warning("order blocked by the risk check", extra={"rule": decision.rule, "code": decision.code})
    else:
        count(RiskMetric.ALLOWED)
    return decision


class RulesCheck:
    """Block lists and amount limits from the document, then the counters (each order counted once)."""

    def __init__(self, source: RulesSource, counters: Counters) -> None:
        self._source = source
        self._counters = counters

    def assess(self, subject: RiskSubject) -> RiskDecision:
        rules = self._source.current()
        decision = static_decision(rules, subject)
        if not decision.blocked:
            decision = counted_decision(rules, subject, self._counters.count(subject, rules))
        return _counted(decision)
