"""The external fraud scorer (issue 20) on loopback: a high score blocks before any gateway request; a scorer that
is down or slow is decided by the configured policy within its timeout, counted for its alarm; the order's token
never leaves the service; the API key comes from Secrets Manager."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from novamart_payments.config import Config
from novamart_payments.handlers.payment import handler as payment_handler

from tests.integration.test_later_outcomes import kinds
from tests.support.aws_calls import RECORDER
from tests.support.fake_scorer import FakeScorer, closed_port_url, fake_scorer
from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.service_aws import REGION, reset_process_state
from tests.support.stripe_movements import charges, stripe_stack
from tests.support.trigger_events import new_order, payment_event

SCORER_SECRET = "it/risk-scorer-key"


@pytest.fixture
def scorer() -> Iterator[FakeScorer]:
    with fake_scorer() as running:
        yield running


@pytest.fixture
def configure(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    def with_scorer(url: str, policy: str = "fail_open", timeout: float = 0.5, secret: str | None = None) -> None:
        monkeypatch.setenv("RISK_SCORER_URL", url)
        monkeypatch.setenv("RISK_SCORER_FAILURE_POLICY", policy)
        monkeypatch.setenv("RISK_SCORER_TIMEOUT_SECONDS", str(timeout))
        if secret:
            monkeypatch.setenv("RISK_SCORER_SECRET_ID", secret)
        reset_process_state()

    yield with_scorer
    monkeypatch.undo()
    reset_process_state()


def code(aws: Aws, order: str) -> str | None:
    [event] = aws.published(order)
    return event["detail"]["data"].get("code")


def test_a_high_score_blocks_before_any_gateway_request(aws: Aws, scorer: FakeScorer, configure: Any) -> None:
    configure(scorer.url)
    scorer.score = 93
    order = new_order()
    before = stripe_stack().faults.total()
    assert invoke(payment_handler, payment_event(order, token="pm_card_visa")) == []
    assert stripe_stack().faults.total() == before and charges(order) == []
    assert code(aws, order) == "fraud_suspected"
    [sent] = scorer.received
    assert sent["orderId"] == order and len(sent["paymentMethodSha256"]) == 64
    assert "pm_card_visa" not in json.dumps(sent)  # the token never leaves the service


def test_a_low_score_is_charged(aws: Aws, scorer: FakeScorer, configure: Any) -> None:
    configure(scorer.url)
    order = new_order()
    assert invoke(payment_handler, payment_event(order)) == []
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [4999]


def test_scorer_down_fail_open_charges_and_counts_the_error(
    aws: Aws, configure: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(closed_port_url(), "fail_open")
    order = new_order()
    assert invoke(payment_handler, payment_event(order)) == []
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [4999]
    assert '"RiskScorerError"' in capsys.readouterr().out  # the metric its alarm watches (EMF)


def test_scorer_down_fail_closed_blocks_without_a_gateway_request(aws: Aws, configure: Any) -> None:
    configure(closed_port_url(), "fail_closed")
    order = new_order()
    before = stripe_stack().faults.total()
    assert invoke(payment_handler, payment_event(order)) == []
    assert stripe_stack().faults.total() == before and code(aws, order) == "fraud_suspected"
    [item] = aws.payment_items(order)
    assert item["risk"]["M"]["rule"]["S"] == "scorer.unavailable"


@pytest.mark.parametrize("policy", ["fail_open", "fail_closed"])
def test_a_slow_scorer_is_cut_off_at_its_timeout_and_the_policy_holds(
    aws: Aws, scorer: FakeScorer, configure: Any, policy: str
) -> None:
    configure(scorer.url, policy, timeout=0.3)
    scorer.delay_seconds = 5
    order = new_order()
    started = time.monotonic()
    assert invoke(payment_handler, payment_event(order)) == []
    elapsed = time.monotonic() - started
    assert elapsed < 3.0  # the scorer's 0.3 s plus the charge: far below the scorer's 5 s
    assert kinds(aws, order) == (["payment.succeeded"] if policy == "fail_open" else ["payment.failed"])


def test_the_api_key_is_read_from_secrets_manager(aws: Aws, scorer: FakeScorer, configure: Any) -> None:
    sm = boto3.client("secretsmanager", endpoint_url=aws.endpoint, region_name=REGION)
    with contextlib.suppress(sm.exceptions.ResourceExistsException):
        sm.create_secret(Name=SCORER_SECRET, SecretString=json.dumps({"api_key": "scorer-test-key-1"}))
    configure(scorer.url, secret=SCORER_SECRET)
    before = RECORDER.requests()
    assert invoke(payment_handler, payment_event(new_order())) == []
    assert scorer.headers[-1]["Authorization"] == "Bearer scorer-test-key-1"
    # The deployed stack of tests/iam_policies has no scorer: its role is granted the secret only when Terraform's
    # risk_scorer.secret_arn is set (modules/service), so this read is not one the deployed role must allow.
    RECORDER.forget({r for r in RECORDER.requests() - before if r.resource and r.resource.name == SCORER_SECRET})


def test_the_record_budget_counts_the_scorer_timeout() -> None:
    env = {"PAYMENT_TABLE_NAME": "p-t", "REFUND_TABLE_NAME": "r-t", "AWS_REGION": "us-east-2"}
    without = Config.from_env(env)
    scored = Config.from_env({**env, "RISK_SCORER_URL": "http://127.0.0.1:9/score", "RISK_SCORER_TIMEOUT_SECONDS": "2"})
    assert scored.record_budget_seconds == pytest.approx(without.record_budget_seconds + 2)


def test_scorer_errors_have_an_alarm_and_a_runbook_row() -> None:
    from tools.docgen import runbook

    [alarm] = [a for a in runbook.alarms() if a.metric == "RiskScorerError"]
    assert alarm.key == "record-risk-scorer-errors"
    assert "risk-scorer-errors" in runbook.runbook_page()
