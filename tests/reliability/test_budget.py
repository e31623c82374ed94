"""The retry budget fits inside the Lambda timeout, and the Lambda timeout inside the queue's visibility timeout.

Worst case for one record = sum over the AWS calls on its longest path of
``attempts x (connect timeout + read timeout) + the backoffs between attempts``, where botocore's standard mode
backs off at most ``min(1 s x 2^(i-1), 20 s)`` before attempt i+1 (the throttling base; other errors use 25-50 ms).
A header ``x-amz-retry-after`` could add up to 5 s more per retry; DynamoDB and EventBridge do not send it, so it is
left out. The number of calls on each path is measured here, not assumed: every delivery scenario is run once
against the emulator with a ``before-call`` counter on the handlers' own clients.

If a record can outlive the Lambda timeout, the invocation is killed mid-record and the whole batch comes back after
the visibility timeout: safe (every step is idempotent) but slow, and each such round spends one of the message's
``maxReceiveCount`` receives. AWS recommends a visibility timeout of at least 6 x the function timeout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from novamart_payments import clients, observability
from novamart_payments.config import RECORD_MAX_AWS_CALLS, RECORD_MAX_GATEWAY_CALLS, Config, get_config
from novamart_payments.handlers import _batch
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.reliability.terraform_values import function_limits
from tests.support.handler_calls import Context, invoke
from tests.support.reliability_aws import RelAws
from tests.support.reliability_run import REPORT
from tests.support.simulated_movements import charges, refunds
from tests.support.trigger_events import payment_event, refund_event
from tools.devstack.sqs_records import sqs_batch

pytestmark = pytest.mark.reliability

VISIBILITY_FACTOR = 6  # AWS: visibility timeout >= 6 x function timeout for SQS event sources
BATCH_MARGIN = 0.2  # a full batch at its worst must leave this fraction of the Lambda timeout unused
MAX_BACKOFF_SECONDS = 20.0  # botocore.retries.standard.ExponentialBackoff._MAX_BACKOFF
THROTTLING_BASE_SECONDS = 1.0


class BudgetExceeded(AssertionError):
    """The worst-case time of one record is not below the Lambda timeout."""


def worst_case_call_seconds(attempts: int, connect: float, read: float) -> float:
    backoffs = sum(min(THROTTLING_BASE_SECONDS * 2 ** (i - 1), MAX_BACKOFF_SECONDS) for i in range(1, attempts))
    return attempts * (connect + read) + backoffs


@pytest.fixture
def count_calls(rel_aws: RelAws) -> Iterator[Callable[[Callable[[], Any]], int]]:
    clients.reset()
    seen: list[str] = []

    def hook(event_name: str, **_: Any) -> None:
        seen.append(event_name)

    clients.dynamodb().meta.events.register("before-call.dynamodb", hook)
    clients.events().meta.events.register("before-call.eventbridge", hook)

    def run(action: Callable[[], Any]) -> int:
        seen.clear()
        action()
        return len(seen)

    yield run
    clients.reset()


def _order() -> str:
    return f"rel-budget-{uuid.uuid4().hex[:12]}"


def measured_longest_paths(run: Callable[[Callable[[], Any]], int]) -> dict[str, dict[str, int]]:
    """AWS calls made by one record in each delivery scenario, per function."""
    pay: dict[str, int] = {}
    ref: dict[str, int] = {}

    def ok(handler: Any, event: dict[str, Any]) -> Callable[[], None]:
        def call() -> None:
            assert invoke(handler, event) == []

        return call

    o = _order()
    pay["new payment"] = run(ok(payment_handler, payment_event(o)))
    pay["duplicate"] = run(ok(payment_handler, payment_event(o)))
    ref["partial refund"] = run(ok(refund_handler, refund_event(o, 1000, request_id="b1")))
    ref["full refund of the rest"] = run(ok(refund_handler, refund_event(o)))
    ref["refund when nothing is left"] = run(ok(refund_handler, refund_event(o, 500, request_id="b2")))
    o = _order()
    pay["declined payment"] = run(ok(payment_handler, payment_event(o, token="pm_card_chargeDeclined")))
    ref["refund of a declined payment"] = run(ok(refund_handler, refund_event(o)))
    o = _order()
    ref["cancel before payment"] = run(ok(refund_handler, refund_event(o)))
    pay["payment after cancel"] = run(ok(payment_handler, payment_event(o)))
    o = _order()
    event = payment_event(o, token="pm_sim_transient1_visa")
    pay["transient gateway error"] = run(lambda: invoke(payment_handler, event))
    pay["redelivery after the outage"] = run(ok(payment_handler, event))
    return {"payment": pay, "refund": ref}


@pytest.mark.parametrize("env", ["local", "aws"])
def test_visibility_timeout_covers_six_lambda_timeouts(env: str) -> None:
    limits = function_limits(env)
    assert limits.lambda_timeout_seconds * VISIBILITY_FACTOR <= limits.visibility_timeout_seconds, limits


@pytest.mark.parametrize("env", ["local", "aws"])
def test_retry_budget_of_one_record_fits_in_the_lambda_timeout(
    env: str, rel_aws: RelAws, count_calls: Callable[[Callable[[], Any]], int]
) -> None:
    limits = function_limits(env)
    cfg = get_config()
    connect = float(limits.environment_overrides.get("AWS_CALL_TIMEOUT_SECONDS", cfg.aws_call_timeout_seconds))
    attempts = int(float(limits.environment_overrides.get("AWS_MAX_ATTEMPTS", cfg.aws_max_attempts)))
    # the live clients really are configured like that (connect and read share one setting)
    assert clients.dynamodb().meta.config.read_timeout == cfg.aws_call_timeout_seconds
    assert clients.dynamodb().meta.config.retries["total_max_attempts"] == cfg.aws_max_attempts
    per_call = worst_case_call_seconds(attempts, connect, connect)
    paths = measured_longest_paths(count_calls)
    lines = []
    over = []
    for function, scenarios in paths.items():
        name, calls = max(scenarios.items(), key=lambda kv: kv[1])
        budget = calls * per_call
        lines.append(
            f"{function}: longest path '{name}' = {calls} AWS calls x {per_call:.1f} s = {budget:.0f} s per record, "
            f"{budget * limits.batch_size:.0f} s per batch of {limits.batch_size}; Lambda timeout "
            f"{limits.lambda_timeout_seconds:.0f} s, visibility {limits.visibility_timeout_seconds:.0f} s"
        )
        if not budget < limits.lambda_timeout_seconds:
            over.append(function)
    REPORT[f"retry budget ({env})"] = " | ".join(lines) + f" | calls per scenario: {paths}"
    # The handler's own time guard budgets RECORD_MAX_AWS_CALLS per record: no path may make more.
    assert max(max(s.values()) for s in paths.values()) <= RECORD_MAX_AWS_CALLS, paths
    if over:
        raise BudgetExceeded("; ".join(lines))


def budget_config(env: str) -> Config:
    """The functions' configuration as Terraform deploys it to ``env`` (its environment overrides applied)."""
    limits = function_limits(env)
    base = {"PAYMENT_TABLE_NAME": "payments", "REFUND_TABLE_NAME": "refunds", "AWS_REGION": "us-east-2"}
    return Config.from_env(base | limits.environment_overrides)


@pytest.mark.parametrize("env", ["local", "aws"])
def test_a_full_batch_at_its_worst_fits_in_the_lambda_timeout_with_margin(env: str) -> None:
    """batch size x (capped AWS calls + the gateway call, each at its worst) <= 80 % of the Lambda timeout."""
    limits = function_limits(env)
    cfg = budget_config(env)
    assert cfg.max_receive_count == limits.max_receive_count, "QUEUE_MAX_RECEIVE_COUNT must be the queue's"
    batch = limits.batch_size * cfg.record_budget_seconds
    REPORT[f"batch budget ({env})"] = (
        f"{limits.batch_size} records x ({RECORD_MAX_AWS_CALLS} AWS calls x {cfg.aws_call_seconds:.0f} s + gateway "
        f"{RECORD_MAX_GATEWAY_CALLS} x {cfg.gateway_call_seconds:.0f} s) = {batch:.0f} s; "
        f"Lambda timeout {limits.lambda_timeout_seconds:.0f} s"
    )
    assert batch <= (1 - BATCH_MARGIN) * limits.lambda_timeout_seconds, REPORT[f"batch budget ({env})"]


class RunDownContext(Context):
    """A Lambda context whose clock runs down: each record handled spends ``per_record`` seconds."""

    def __init__(self, start_seconds: float, per_record: float) -> None:
        super().__init__()
        self.remaining = start_seconds
        self.per_record = per_record

    def get_remaining_time_in_millis(self) -> int:
        # The guard reads the clock once per record (the first record does not read it): spend as it reads.
        left = self.remaining
        self.remaining -= self.per_record
        return int(left * 1000)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    real = observability.count
    monkeypatch.setattr(_batch, "count", lambda name: (names.append(name), real(name)))
    return names


def _receive_count(batch: dict[str, Any], index: int, count: int) -> None:
    batch["Records"][index]["attributes"]["ApproximateReceiveCount"] = str(count)


def test_the_time_guard_never_fires_when_each_record_takes_its_whole_budget(
    rel_aws: RelAws, counted: list[str]
) -> None:
    """The sizing above, run: a clock starting at the Lambda timeout, each record spending its worst case."""
    limits = function_limits("aws")
    budget = budget_config("aws").record_budget_seconds
    orders = [_order() for _ in range(limits.batch_size)]
    batch = sqs_batch(*(payment_event(o) for o in orders))
    result = payment_handler(batch, RunDownContext(limits.lambda_timeout_seconds, budget))
    assert result["batchItemFailures"] == []
    assert "TimeGuardDeferred" not in counted
    assert all(charges(o) for o in orders)


def test_when_time_runs_short_the_guard_defers_counts_and_never_dead_letters_an_untried_record(
    rel_aws: RelAws, counted: list[str]
) -> None:
    """Record 1 always runs; record 2 is deferred (metric); record 3 is on its last receive and runs anyway."""
    cfg = get_config()
    orders = [_order() for _ in range(3)]
    batch = sqs_batch(*(payment_event(o) for o in orders))
    _receive_count(batch, 2, cfg.max_receive_count)
    context = RunDownContext(cfg.record_budget_seconds - 1, per_record=1)
    failed = [f["itemIdentifier"] for f in payment_handler(batch, context)["batchItemFailures"]]
    assert failed == [batch["Records"][1]["messageId"]]
    assert counted.count("TimeGuardDeferred") == 1
    assert [bool(charges(o)) for o in orders] == [True, False, True]


def test_a_record_is_capped_at_its_aws_calls(rel_aws: RelAws) -> None:
    """The cap holds in code, whatever loop asks for more: the call past it raises before reaching AWS."""
    clients.reset()
    ddb = clients.dynamodb()
    clients.start_record()
    try:
        for _ in range(RECORD_MAX_AWS_CALLS):
            ddb.describe_limits()
        with pytest.raises(clients.CallCapReached):
            ddb.describe_limits()
    finally:
        clients.end_record()
    ddb.describe_limits()  # outside a record: no cap


def test_a_record_that_keeps_losing_races_fails_at_the_cap_and_is_redelivered(
    rel_aws: RelAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund whose reservation always loses would loop; the cap ends it as a failed record, nothing moved."""
    order = _order()
    assert invoke(payment_handler, payment_event(order)) == []
    svc = _batch.service()
    calls: list[int] = []
    real = svc._repo.get_payment_and_refund

    def read_twice(payment_id: str, refund_id: str) -> Any:
        calls.append(1)
        real(payment_id, refund_id)
        return real(payment_id, refund_id)

    monkeypatch.setattr(svc._repo, "get_payment_and_refund", read_twice)
    monkeypatch.setattr(svc._repo, "reserve_refund", lambda *a, **k: False)
    assert len(invoke(refund_handler, refund_event(order))) == 1
    assert len(calls) <= RECORD_MAX_AWS_CALLS // 2 + 1  # two calls a round: the cap cut the last one short
    assert refunds(order) == []


def test_fast_redelivery_profile_keeps_the_record_budget_inside_the_lambda_timeout() -> None:
    """terraform/envs/local/fast-redelivery.tfvars (MiniStack, LocalStack): short enough for the behaviour suite,
    and still the production rules: one record's worst case fits in the Lambda timeout, visibility >= 6x it."""
    import hcl2
    from novamart_payments.config import Config

    from tests.reliability.terraform_values import TERRAFORM

    with (TERRAFORM / "envs" / "local" / "fast-redelivery.tfvars").open(encoding="utf-8") as fh:
        profile = hcl2.load(fh)
    cfg = Config.from_env(
        {
            "PAYMENT_TABLE_NAME": "payments",
            "REFUND_TABLE_NAME": "refunds",
            "AWS_REGION": "us-east-2",
            "GATEWAY_MODE": "stripe",
            "STRIPE_SECRET_ID": "novamart/payments/stripe-secret-key",
            "AWS_CALL_TIMEOUT_SECONDS": str(profile["aws_call_timeout_seconds"]),
            "AWS_MAX_ATTEMPTS": str(profile["aws_max_attempts"]),
            "STRIPE_TIMEOUT_SECONDS": str(profile["stripe_timeout_seconds"]),
            "STRIPE_MAX_NETWORK_RETRIES": str(profile["stripe_max_network_retries"]),
            "GATEWAY_BUDGET_MAX_WAIT_SECONDS": str(profile["gateway_budget_max_wait_seconds"]),
        }
    )
    timeout = profile["lambda_timeout_seconds"]
    assert cfg.record_budget_seconds <= timeout, (cfg.record_budget_seconds, timeout)
    # Every delivery is the first record of its invocation: the handler's second-record guard never defers one.
    assert profile["batch_size"] == 1 or cfg.record_budget_seconds * profile["batch_size"] <= timeout
    # features/transient_failures.feature needs three deliveries before the DLQ takes the message.
    receives = function_limits("local").max_receive_count
    assert receives >= 3
    visibility = function_limits("local").visibility_timeout_seconds / function_limits("local").lambda_timeout_seconds
    assert visibility >= VISIBILITY_FACTOR
    REPORT["retry budget (fast-redelivery.tfvars)"] = (
        f"{cfg.record_budget_seconds:.1f} s per record, Lambda timeout {timeout} s, "
        f"visibility {timeout * visibility:.0f} s, maxReceiveCount {receives}"
    )
