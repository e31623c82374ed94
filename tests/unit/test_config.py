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
    # 3 attempts x (1 s connect + 1 s read) + 1 s + 2 s of backoff = 9 s per call, 8 calls at most (docs/risk.md)
    assert cfg.aws_call_seconds == 9
    # the gateway: 2 attempts x (5 s + the request budget's call 2 s and its longest wait 1 s) + the SDK's largest
    # backoff (5 s) = 21 s, at most 4 requests per record
    assert cfg.gateway_call_seconds == 21
    assert cfg.record_budget_seconds == 8 * 9 + 4 * 21
    slower = Config.from_env({**GOOD, "STRIPE_TIMEOUT_SECONDS": "10", "STRIPE_MAX_NETWORK_RETRIES": "2"})
    assert slower.gateway_call_seconds == 3 * (10 + 3) + 2 * 5


def test_gateway_and_queue_limits_are_checked() -> None:
    for name, bad in (
        ("STRIPE_TIMEOUT_SECONDS", "0"),
        ("STRIPE_MAX_NETWORK_RETRIES", "9"),
        ("QUEUE_MAX_RECEIVE_COUNT", "x"),
    ):
        with pytest.raises(ConfigError, match=name):
            Config.from_env({**GOOD, name: bad})


STRIPE = {**GOOD, "GATEWAY_MODE": "stripe", "STRIPE_SECRET_ID": "novamart/payments/stripe-secret-key"}


def test_stripe_mode_needs_the_secret_id() -> None:
    env = {k: v for k, v in STRIPE.items() if k != "STRIPE_SECRET_ID"}
    with pytest.raises(ConfigError, match="STRIPE_SECRET_ID is not set"):
        Config.from_env(env)
    cfg = Config.from_env(STRIPE)
    assert (cfg.gateway_mode, cfg.stripe_secret_id, cfg.stripe_api_base) == ("stripe", STRIPE["STRIPE_SECRET_ID"], None)


def test_a_key_put_where_the_secret_id_belongs_is_refused_without_echo() -> None:
    key = "sk_live_" + "x" * 24
    with pytest.raises(ConfigError) as raised:
        Config.from_env({**STRIPE, "STRIPE_SECRET_ID": key})
    assert "STRIPE_SECRET_ID" in str(raised.value) and key not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_MODE", "adyen"),
        ("STRIPE_API_BASE", "ftp://x"),
        ("STRIPE_TIMEOUT_SECONDS", "0"),
        ("STRIPE_MAX_NETWORK_RETRIES", "9"),
        ("STRIPE_OFF_SESSION", "yes"),
    ],
)
def test_malformed_stripe_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({**STRIPE, name: value})


@pytest.mark.parametrize("bus", ["bad bus!", "x" * 300, "arn:aws:events:us-east-2:123:event-bus/x"])
def test_a_malformed_bus_name_is_refused(bus: str) -> None:
    with pytest.raises(ConfigError, match="EVENT_BUS_NAME"):
        Config.from_env({**GOOD, "EVENT_BUS_NAME": bus})
