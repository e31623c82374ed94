"""The backoff schedule and the retry horizon's receive count (issue 19)."""

from __future__ import annotations

import pytest
from novamart_payments.config import Config, ConfigError, receives_for_horizon
from novamart_payments.retry import backoff_seconds, queue_url

BASE = {"PAYMENT_TABLE_NAME": "payments", "REFUND_TABLE_NAME": "refunds", "AWS_REGION": "us-east-2"}


def cfg(**env: str) -> Config:
    return Config.from_env(BASE | env)


@pytest.mark.parametrize(("receives", "base"), [(1, 2), (2, 10), (3, 30), (4, 120), (5, 300), (6, 300), (40, 300)])
def test_the_backoff_grows_with_the_receive_count_within_its_jitter(receives: int, base: int) -> None:
    c = cfg()
    low, high = backoff_seconds(receives, c, lambda: 0.0), backoff_seconds(receives, c, lambda: 1.0)
    assert (low, high) == (round(base * 0.8), round(base * 1.2))
    assert backoff_seconds(receives, c, lambda: 0.5) == base


def test_the_schedule_and_jitter_are_configurable_and_checked() -> None:
    c = cfg(RETRY_SCHEDULE_SECONDS="1,5", RETRY_JITTER="0")
    assert [backoff_seconds(n, c) for n in (1, 2, 3)] == [1, 5, 5]
    with pytest.raises(ConfigError, match="RETRY_SCHEDULE_SECONDS"):
        cfg(RETRY_SCHEDULE_SECONDS="1,x")
    with pytest.raises(ConfigError, match="RETRY_SCHEDULE_SECONDS"):
        cfg(RETRY_SCHEDULE_SECONDS="50000")


def test_the_horizon_gives_the_receive_count() -> None:
    # 2 + 10 + 30 + 120 + 300 = 462 s over 5 retries, then 11 more of 300 s reach 3,762 s >= 1 h: 17 receives.
    assert receives_for_horizon((2, 10, 30, 120, 300), 3600) == 17 == cfg().max_receive_count
    assert receives_for_horizon((1, 2), 4) == 4  # envs/local
    assert receives_for_horizon((2, 10), 5) == 3  # a horizon inside the schedule still uses every entry


def test_the_queue_url_is_the_record_queue_on_the_client_endpoint() -> None:
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-payment-handler-queue"
    assert queue_url(arn, "https://sqs.us-east-2.amazonaws.com") == (
        "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-payment-handler-queue"
    )
