"""A missing or malformed setting fails at cold start with a message naming it."""

from __future__ import annotations

import pytest
from novamart_payments.config import Config, ConfigError

GOOD = {
    "PAYMENT_TABLE_NAME": "payments",
    "REFUND_TABLE_NAME": "refunds",
    "EVENT_BUS_NAME": "default",
    "AWS_REGION": "us-east-2",
}


def test_reads_the_seed_variables() -> None:
    cfg = Config.from_env(GOOD)
    assert (cfg.payment_table_name, cfg.refund_table_name, cfg.event_bus_name, cfg.aws_region) == (
        "payments",
        "refunds",
        "default",
        "us-east-2",
    )
    assert cfg.gateway_mode == "simulated"


def test_bus_defaults_to_default_as_in_the_seed() -> None:
    env = {k: v for k, v in GOOD.items() if k != "EVENT_BUS_NAME"}
    assert Config.from_env(env).event_bus_name == "default"


@pytest.mark.parametrize("name", ["PAYMENT_TABLE_NAME", "REFUND_TABLE_NAME", "AWS_REGION"])
def test_missing_setting_is_named(name: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Config.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENT_TABLE_NAME", "no spaces allowed"),
        ("AWS_REGION", "Ohio"),
        ("GATEWAY_MODE", "stripe-live"),
        ("AWS_CALL_TIMEOUT_SECONDS", "soon"),
        ("AWS_MAX_ATTEMPTS", "99"),
    ],
)
def test_malformed_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({**GOOD, name: value})


def test_record_budget_is_the_capped_calls_and_the_gateway_call_at_worst_case_retries() -> None:
    cfg = Config.from_env({**GOOD, "AWS_CALL_TIMEOUT_SECONDS": "1", "AWS_MAX_ATTEMPTS": "3"})
    # 3 attempts x (1 s connect + 1 s read) + 1 s + 2 s of backoff = 9 s per call, 7 calls at most
    assert cfg.aws_call_seconds == 9
    # the gateway: 2 attempts x 5 s + 2 s of backoff
    assert cfg.gateway_call_seconds == 12
    assert cfg.record_budget_seconds == 7 * 9 + 12
    slower = Config.from_env({**GOOD, "STRIPE_TIMEOUT_SECONDS": "10", "STRIPE_MAX_RETRIES": "2"})
    assert slower.gateway_call_seconds == 3 * 10 + 2 * 2


def test_gateway_and_queue_limits_are_checked() -> None:
    for name, bad in (("STRIPE_TIMEOUT_SECONDS", "0"), ("STRIPE_MAX_RETRIES", "9"), ("QUEUE_MAX_RECEIVE_COUNT", "x")):
        with pytest.raises(ConfigError, match=name):
            Config.from_env({**GOOD, name: bad})
