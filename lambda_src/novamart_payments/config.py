"""One typed configuration object, read from the environment once per process.

Reading happens on first use rather than at import, so importing a handler in a test or a tool never fails
for want of variables; but it happens before any record is processed, so a missing or malformed setting fails
the cold start with a message that names the variable instead of failing later on some AWS call.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from novamart_payments.domain import ACTION_DEADLINE
from novamart_payments.majors import MajorsError, code_windows, windows_from_env

_ACTION_DEADLINE_SECONDS = int(ACTION_DEADLINE.total_seconds())

GatewayMode = Literal["simulated", "stripe"]
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_BUS_NAME = re.compile(r"^[A-Za-z0-9/_.-]{1,256}$|^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# A Secrets Manager name or ARN (never the key itself: a value that looks like one is refused).
_SECRET_ID = re.compile(
    r"^(?!sk_|rk_)([A-Za-z0-9/_+=.@-]{1,512}|arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+)$"
)
_PARAMETER = re.compile(r"^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]{1,1011}$")
_SCORER_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?/?$")


# The most AWS calls one record may make, enforced by ``clients`` (a record that would make more fails and is
# redelivered). Without the risk check the longest path makes 5 (refund of an order cancelled before payment: read,
# marker, refund record, PutEvents, published mark); 2 more cover the single reads that replace a throttled
# BatchGetItem. With the risk check (issue 20) a payment the gateway declines makes 8: claim, the two counters,
# the decision, the intent, the re-read before a decline is published, PutEvents, the final write. A webhook
# delivery is capped the same: a Radar review closed as refunded as fraud makes 8 (the event's claim, the payment
# and refund read, the review's mark, the reservation or the lease, the approval, PutEvents, the final write, the
# event's done mark; tests/integration/test_radar.py fails with a cap of 7); an early fraud warning's refund 7.
# tests/reliability/test_budget.py measures every SQS path against it.
RECORD_MAX_AWS_CALLS = 8
# The most gateway requests one record can make: a payment creates, confirms and may read back its intent (a
# concurrent copy of the same trigger that lost the store cancels its own instead); a resumed refund lists, then
# creates.
RECORD_MAX_GATEWAY_CALLS = 4
_MAX_BACKOFF_SECONDS = 20.0  # botocore standard retry mode's cap
_GATEWAY_MAX_BACKOFF_SECONDS = 5.0  # the Stripe SDK's cap between network retries (HTTPClient.MAX_DELAY)


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Config:
    payment_table_name: str
    refund_table_name: str
    event_bus_name: str
    aws_region: str
    gateway_mode: GatewayMode
    # Ceiling on one SDK call, so that the botocore retry budget fits inside the Lambda timeout.
    aws_call_timeout_seconds: float
    aws_max_attempts: int
    # Stripe (GATEWAY_MODE=stripe): where the secret key lives, how long it is cached, and the SDK's limits (time
    # of one HTTP attempt, retries after the first). The limits count in every mode, so the budget is the
    # production one everywhere.
    stripe_secret_id: str = ""
    stripe_api_base: str | None = None
    gateway_timeout_seconds: float = 5.0
    gateway_max_retries: int = 1
    stripe_secret_max_age_seconds: int = 300
    stripe_off_session: bool = False
    # The gateway request budget shared by all four functions (novamart_payments.budget): requests per second for
    # the Stripe account (default 80 % of the live limit of 100; a test key's account allows 25) and the table
    # holding the per-second counters (none: no budget, the simulated gateway and fast tests).
    gateway_budget_per_second: int = 80
    gateway_budget_table_name: str = ""
    gateway_budget_max_wait_seconds: float = 1.0
    # The source queue's maxReceiveCount, which Terraform derives from the retry horizon and schedule below
    # (``receives_for_horizon``): the time guard never defers a record on its last receive, and a rate-limited
    # record on its last receive is queued again rather than dead-lettered.
    max_receive_count: int = 17
    # Per-message backoff: a failed record's message comes back after schedule[receives - 1] seconds (the last
    # entry repeating), spread by +/- jitter, set by ChangeMessageVisibility on that message; retried for about
    # the horizon, after which it dead-letters (and reconciliation finishes its payment).
    retry_schedule_seconds: tuple[int, ...] = (2, 10, 30, 120, 300)
    retry_jitter: float = 0.2
    retry_horizon_seconds: int = 3600
    # Outcomes that arrive later. The webhook function: where Stripe's signing secret lives and which table
    # remembers the Stripe events already handled. Reconciliation: how old an unfinished payment must be before
    # it asks the gateway (a PENDING one: past the queue's retry horizon; one waiting for the customer: a webhook
    # may have been lost), and how long a customer may take to authenticate.
    stripe_webhook_secret_id: str = ""
    webhook_event_table_name: str = ""
    action_deadline_seconds: int = _ACTION_DEADLINE_SECONDS
    reconcile_pending_after_seconds: int = 7_200
    reconcile_action_after_seconds: int = 900
    # The risk check (issue 20): the SSM parameter holding the rules document, how long a container caches it
    # (a rules change is in force within this many seconds, no deploy), and the counters' table. No parameter: no
    # risk check (every order allowed, nothing counted).
    risk_rules_parameter: str = ""
    risk_rules_max_age_seconds: int = 60
    risk_table_name: str = ""
    # The external fraud scorer (risk/scorer.py): its URL (none: not asked), its own timeout (inside the record
    # budget), the score that blocks, what happens when it fails, and where its API key lives (none: no key).
    risk_scorer_url: str = ""
    risk_scorer_timeout_seconds: float = 1.0
    risk_scorer_block_score: float = 80.0
    risk_scorer_fail_closed: bool = False
    risk_scorer_secret_id: str = ""
    # What an early fraud warning does (radar.py): refund_actionable (default), refund_all or record_only.
    radar_early_fraud_warning_policy: str = "refund_actionable"
    # The last day of each older major still published beside the current one (majors.py; EVENT_MAJORS).
    event_majors: dict[str, dict[int, date]] = field(default_factory=code_windows)

    @property
    def aws_call_seconds(self) -> float:
        """Worst-case time of one AWS call: every attempt timing out on connect and read, with botocore's
        largest backoffs in between."""
        attempts = self.aws_max_attempts
        backoffs = sum(min(2.0 ** (i - 1), _MAX_BACKOFF_SECONDS) for i in range(1, attempts))
        return attempts * 2 * self.aws_call_timeout_seconds + backoffs

    @property
    def budget_call_seconds(self) -> float:
        """Worst-case time the request budget adds to one HTTP attempt: its one-attempt DynamoDB call, then the
        longest wait for a later second."""
        return 2 * self.aws_call_timeout_seconds + self.gateway_budget_max_wait_seconds

    @property
    def gateway_call_seconds(self) -> float:
        """Worst-case time of one gateway request: every attempt waiting its budget and timing out, the largest
        backoff between them."""
        retries = self.gateway_max_retries
        attempt = self.gateway_timeout_seconds + self.budget_call_seconds
        return (retries + 1) * attempt + retries * _GATEWAY_MAX_BACKOFF_SECONDS

    @property
    def record_budget_seconds(self) -> float:
        """Worst-case time of one record: the capped AWS calls and gateway requests at their worst. A record is
        only started when this much time is left; Terraform sizes batch x budget below the Lambda timeout."""
        scorer = self.risk_scorer_timeout_seconds if self.risk_scorer_url else 0.0
        return (
            RECORD_MAX_AWS_CALLS * self.aws_call_seconds + RECORD_MAX_GATEWAY_CALLS * self.gateway_call_seconds + scorer
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        mode = _gateway_mode(env.get("GATEWAY_MODE", "simulated"))
        return cls(
            payment_table_name=_required(env, "PAYMENT_TABLE_NAME", _TABLE_NAME),
            refund_table_name=_required(env, "REFUND_TABLE_NAME", _TABLE_NAME),
            event_bus_name=_required(env, "EVENT_BUS_NAME", _BUS_NAME, default="default"),
            aws_region=_required(env, "AWS_REGION", _REGION),
            gateway_mode=mode,
            aws_call_timeout_seconds=_number(env, "AWS_CALL_TIMEOUT_SECONDS", 1.0, 0.1, 30.0),
            aws_max_attempts=int(_number(env, "AWS_MAX_ATTEMPTS", 3, 1, 10)),
            stripe_secret_id=_required(env, "STRIPE_SECRET_ID", _SECRET_ID) if mode == "stripe" else "",
            stripe_api_base=_optional(env, "STRIPE_API_BASE", _URL),
            gateway_timeout_seconds=_number(env, "STRIPE_TIMEOUT_SECONDS", 5.0, 0.1, 30.0),
            gateway_max_retries=int(_number(env, "STRIPE_MAX_NETWORK_RETRIES", 1, 0, 3)),
            stripe_secret_max_age_seconds=int(_number(env, "STRIPE_SECRET_MAX_AGE_SECONDS", 300, 0, 3600)),
            stripe_off_session=_flag(env, "STRIPE_OFF_SESSION", default=False),
            gateway_budget_per_second=int(_number(env, "GATEWAY_BUDGET_PER_SECOND", 80, 1, 10_000)),
            gateway_budget_table_name=_optional(env, "GATEWAY_BUDGET_TABLE_NAME", _TABLE_NAME) or "",
            gateway_budget_max_wait_seconds=_number(env, "GATEWAY_BUDGET_MAX_WAIT_SECONDS", 1.0, 0.0, 10.0),
            max_receive_count=int(_number(env, "QUEUE_MAX_RECEIVE_COUNT", 17, 1, 1000)),
            retry_schedule_seconds=_schedule(env, "RETRY_SCHEDULE_SECONDS", (2, 10, 30, 120, 300)),
            retry_jitter=_number(env, "RETRY_JITTER", 0.2, 0.0, 0.9),
            retry_horizon_seconds=int(_number(env, "RETRY_HORIZON_SECONDS", 3600, 1, 1_209_600)),
            stripe_webhook_secret_id=_optional(env, "STRIPE_WEBHOOK_SECRET_ID", _SECRET_ID) or "",
            webhook_event_table_name=_optional(env, "WEBHOOK_EVENT_TABLE_NAME", _TABLE_NAME) or "",
            action_deadline_seconds=int(_number(env, "ACTION_DEADLINE_SECONDS", _ACTION_DEADLINE_SECONDS, 1, 604_800)),
            # 0 (every unfinished payment) is for a pass run by hand; Terraform keeps the scheduled ones above 0.
            reconcile_pending_after_seconds=int(_number(env, "RECONCILE_PENDING_AFTER_SECONDS", 7_200, 0, 604_800)),
            reconcile_action_after_seconds=int(_number(env, "RECONCILE_ACTION_AFTER_SECONDS", 900, 0, 604_800)),
            event_majors=_event_majors(env.get("EVENT_MAJORS")),
            risk_rules_parameter=_optional(env, "RISK_RULES_PARAMETER_NAME", _PARAMETER) or "",
            risk_rules_max_age_seconds=int(_number(env, "RISK_RULES_MAX_AGE_SECONDS", 60, 0, 3600)),
            risk_table_name=_risk_table(env),
            risk_scorer_url=_optional(env, "RISK_SCORER_URL", _SCORER_URL) or "",
            risk_scorer_timeout_seconds=_number(env, "RISK_SCORER_TIMEOUT_SECONDS", 1.0, 0.05, 5.0),
            risk_scorer_block_score=_number(env, "RISK_SCORER_BLOCK_SCORE", 80.0, 0.0, 100.0),
            risk_scorer_fail_closed=_choice(env, "RISK_SCORER_FAILURE_POLICY", ("fail_open", "fail_closed"))
            == "fail_closed",
            risk_scorer_secret_id=_optional(env, "RISK_SCORER_SECRET_ID", _SECRET_ID) or "",
            radar_early_fraud_warning_policy=_choice(
                env, "RADAR_EARLY_FRAUD_WARNING_POLICY", ("refund_actionable", "refund_all", "record_only")
            ),
        )

    def require(self, name: str) -> str:
        """A setting only some functions need (the webhook function's secret and table), checked where used."""
        value = str(getattr(self, name))
        if not value:
            raise ConfigError(f"{name.upper()} is not set; the webhook function requires it (see README)")
        return value


@functools.cache
def get_config() -> Config:
    """The process's configuration; ``get_config.cache_clear()`` lets a harness switch environments."""
    return Config.from_env(os.environ)


def _required(env: Mapping[str, str], name: str, pattern: re.Pattern[str], default: str | None = None) -> str:
    value = env.get(name, default)
    if value is None or value == "":
        raise ConfigError(f"{name} is not set; it is required (see README, Configuration)")
    if not pattern.match(value):
        # The secret's id setting may by mistake hold the key itself: never echo that one.
        shown = "<withheld>" if name == "STRIPE_SECRET_ID" else repr(value)
        raise ConfigError(f"{name}={shown} is malformed (expected a secret name or ARN, or {pattern.pattern})")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or allowed[0]
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(allowed)}")
    return value


def _risk_table(env: Mapping[str, str]) -> str:
    table = _optional(env, "RISK_TABLE_NAME", _TABLE_NAME) or ""
    if env.get("RISK_RULES_PARAMETER_NAME") and not table:
        raise ConfigError("RISK_TABLE_NAME is not set; the risk rules (RISK_RULES_PARAMETER_NAME) count orders in it")
    return table


def _event_majors(raw: str | None) -> dict[str, dict[int, date]]:
    try:
        return windows_from_env(raw)
    except MajorsError as exc:
        raise ConfigError(str(exc)) from None


def _gateway_mode(value: str) -> GatewayMode:
    if value == "stripe":
        return "stripe"
    if value == "simulated":
        return "simulated"
    raise ConfigError(f"GATEWAY_MODE={value!r} is not supported; use 'stripe' (or 'simulated' in tests)")


def _optional(env: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str | None:
    value = env.get(name) or None
    if value is not None and not pattern.match(value):
        shown = "<withheld>" if "SECRET" in name else repr(value)
        raise ConfigError(f"{name}={shown} is malformed (expected to match {pattern.pattern})")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name}={raw!r} must be 'true' or 'false'")
    return raw == "true"


def receives_for_horizon(schedule: tuple[int, ...], horizon_seconds: int) -> int:
    """The receives a message gets for its retries to span the horizon: receive k is followed by a delay of
    schedule[k - 1], the last entry repeating (every entry is used at least once). Terraform derives the queue's
    maxReceiveCount with the same formula (modules/service); tests/reliability/test_budget.py checks they agree."""
    last = max(schedule[-1], 1)
    return 1 + len(schedule) + max(0, -(-(horizon_seconds - sum(schedule)) // last))


def _schedule(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a comma-separated list of seconds") from None
    # SQS caps a message's visibility at 12 hours.
    if not values or any(not 0 <= v <= 43_200 for v in values):
        raise ConfigError(f"{name}={raw!r}: each delay must be within 0..43200 seconds")
    return values


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} is outside {low}..{high}")
    return value
