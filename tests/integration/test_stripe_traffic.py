"""The local Stripe under load settings, as the stripe SDK sees it through the fault proxy (``make load``'s Stripe).

Once the limiter's bucket is empty the SDK gets Stripe's own 429 (``RateLimitError``, code ``rate_limit``, no
``Stripe-Should-Retry``) and nothing reaches localstripe; a fault fraction of 1 would fail everything, so a fraction
just under it fails almost every request with a 500 the SDK raises as an API error; the latency holds each answer
back; the proxy's log has every request with its answer and order. Settings are put back at the end: the proxy is
shared by the session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import stripe

from tests.support.gateway import StripeStack
from tools.devstack.stripe_traffic import TrafficSettings, requests_from


@pytest.fixture
def shaped(local_stripe: StripeStack) -> Iterator[StripeStack]:
    local_stripe.faults.reset_traffic_log()
    try:
        yield local_stripe
    finally:
        local_stripe.faults.shape(TrafficSettings())


def _create(stack: StripeStack, order: str) -> None:
    stack.stripe.client().v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method_types": ["card"], "metadata": {"orderId": order}}
    )


def test_above_the_rate_stripe_answers_429_and_forwards_nothing(shaped: StripeStack) -> None:
    shaped.faults.shape(TrafficSettings(rate_limit=0.2))  # one token, refilled over five seconds
    _create(shaped, "traffic-1")
    with pytest.raises(stripe.RateLimitError) as refused:
        _create(shaped, "traffic-3")
    assert (refused.value.json_body or {})["error"]["code"] == "rate_limit"
    assert refused.value.http_status == 429
    assert not (refused.value.headers or {}).get("Stripe-Should-Retry")
    log = requests_from(shaped.faults.traffic())
    assert [(r.status, r.order) for r in log] == [(200, "traffic-1"), (429, "traffic-3")]
    shaped.faults.shape(TrafficSettings())
    assert shaped.stripe.intents("traffic-3") == []  # refused before it reached localstripe


def test_transient_faults_and_latency(shaped: StripeStack) -> None:
    shaped.faults.shape(TrafficSettings(latency_ms=200, jitter=0.1, fault_fraction=0.99, seed=1))
    began = time.monotonic()
    with pytest.raises(stripe.APIError) as failed:
        _create(shaped, "traffic-4")
    assert time.monotonic() - began >= 0.18
    assert failed.value.http_status == 500
    snapshot = shaped.faults.traffic()
    assert [(r.status, r.order) for r in requests_from(snapshot)] == [(500, "traffic-4")]
    assert snapshot["peak_in_flight"] >= 1
