"""The external fraud scorer: the shape fraud vendors offer (send the order, get a score and a decision).

``POST <url>`` with the order (ids, amount, the token's SHA-256 and the optional risk context; never the token),
answered ``{"score": 0..100, "decision": "allow" | "block"}``. A block, or a score at or above the threshold,
blocks the order as ``fraud_suspected`` (rule ``scorer``). The request has its own timeout, inside the record's
time budget (``Config.record_budget_seconds`` counts it): a scorer that is down, slow or answers nonsense never
holds a payment longer than that. What happens then is the configured policy, counted (``RiskScorerError``,
alarmed) and logged: **fail-open** allows the order on the rules alone (fraud may get through while the scorer
is down; good customers are never refused), **fail-closed** blocks it (no unscored order is charged; good customers
are refused while it lasts). Its API key, if any, is read from Secrets Manager like the Stripe key.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from novamart_payments.failure_codes import PaymentFailureCode
from novamart_payments.risk import RiskDecision, RiskSubject, Verdict
from novamart_payments.risk.rules import token_hash
from novamart_payments.telemetry import count, logger

SCORER_ERROR = "RiskScorerError"


class ScorerCheck:
    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float,
        block_score: float,
        fail_closed: bool,
        api_key: Callable[[], str] | None = None,
    ) -> None:
        self._url = url
        self._timeout = timeout_seconds
        self._block_score = block_score
        self._fail_closed = fail_closed
        self._api_key = api_key

    def assess(self, subject: RiskSubject) -> RiskDecision:
        try:
            answer = self._ask(subject)
            score = float(answer["score"])
            decision = str(answer.get("decision", "allow"))
            if not 0 <= score <= 100 or decision not in ("allow", "block"):
                raise ValueError("answer outside the scorer's contract")
        except Exception as err:  # down, slow, 5xx, not JSON, off contract: the configured policy decides
            return self._unavailable(err)
        if decision == "block" or score >= self._block_score:
            reason = f"Blocked by the fraud scorer (score {score:g}); nothing was charged."
            return RiskDecision(Verdict.BLOCK, "scorer", PaymentFailureCode.FRAUD_SUSPECTED, reason, score)
        return RiskDecision(Verdict.ALLOW, "scorer", score=score)

    def _ask(self, subject: RiskSubject) -> dict[str, Any]:
        context = {k: v for k, v in _context(subject).items() if v is not None}
        body = {
            "orderId": subject.order_id,
            "customerId": subject.customer_id,
            "amount": {"minorUnits": subject.amount.minor_units, "currency": subject.amount.currency},
            "paymentMethodSha256": token_hash(subject.token),
            "context": context,
        }
        headers = {"Content-Type": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key()}"
        request = urllib.request.Request(self._url, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # the configured URL only
            parsed = json.loads(response.read(64 * 1024))
        if not isinstance(parsed, dict):
            raise ValueError("answer is not a JSON object")
        return parsed

    def _unavailable(self, err: Exception) -> RiskDecision:
        count(SCORER_ERROR)
        why = type(err).__name__ if not isinstance(err, urllib.error.HTTPError) else f"HTTP {err.code}"
        policy = "fail-closed" if self._fail_closed else "fail-open"
        logger.warning("risk scorer unavailable; the configured policy decides", extra={"why": why, "policy": policy})
        if self._fail_closed:
            reason = (
                "Blocked: the fraud scorer could not be reached and the policy is fail-closed; nothing was charged."
            )
            return RiskDecision(Verdict.BLOCK, "scorer.unavailable", PaymentFailureCode.FRAUD_SUSPECTED, reason)
        return RiskDecision(Verdict.ALLOW, "scorer.unavailable")


def _context(subject: RiskSubject) -> dict[str, str | None]:
    c = subject.context
    return {
        "clientIp": c.client_ip,
        "emailSha256": c.email_sha256,
        "shippingCountry": c.shipping_country,
        "sessionId": c.session_id,
    }
