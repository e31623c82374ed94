"""The load run's measuring instruments: the local Stripe's traffic shaping and the figures computed from its log.

``make load`` judges the service by these; each must be able to say no. The limiter refuses above its rate in any
sliding second, the fault fraction fails about that share, the latency stays within its jitter, the sliding
window finds the densest second, and the report replaces its own section of the page and nothing else.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from tools.devstack import stripe_traffic
from tools.devstack.load_report import BEGIN, END, PassResult, RateWindows, acceptance, rate_windows, write_section
from tools.devstack.stripe_traffic import Traffic, TrafficSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(stripe_traffic.time, "time", fake)
    return fake


def test_limiter_is_a_token_bucket_of_one_seconds_worth(clock: Clock) -> None:
    traffic = Traffic()
    traffic.configure(TrafficSettings(rate_limit=3))  # a full bucket: 3 requests at once
    verdicts = []
    for step in (0.0, 0.0, 0.0, 0.0, 0.34, 0.35, 1.5, 1.5, 1.5, 1.5):
        clock.now = 1_000.0 + step
        verdicts.append(traffic.arrive()[1])
    # the 4th at once finds the bucket empty; 0.34 s refill 1.02 tokens; 0.35 finds 0.05; 1.5 s later it is full
    # again (never more than 3)
    assert verdicts == [None, None, None, 429, None, 429, None, None, None, 429]


def test_refused_requests_spend_nothing(clock: Clock) -> None:
    traffic = Traffic()
    traffic.configure(TrafficSettings(rate_limit=1))
    assert traffic.arrive()[1] is None
    for _ in range(5):
        assert traffic.arrive()[1] == 429
    clock.now += 1.01
    assert traffic.arrive()[1] is None


def test_fault_fraction_fails_about_that_share_and_latency_stays_within_its_jitter(clock: Clock) -> None:
    traffic = Traffic()
    traffic.configure(TrafficSettings(latency_ms=300, jitter=0.3, fault_fraction=0.05, seed=7))
    answers = [traffic.arrive() for _ in range(4000)]
    failed = sum(1 for _, verdict, _ in answers if verdict == 500)
    assert 140 <= failed <= 260  # 200 expected
    latencies = [latency for _, _, latency in answers]
    assert min(latencies) >= 0.21 and max(latencies) <= 0.39
    assert 0.29 <= sum(latencies) / len(latencies) <= 0.31


def test_everything_off_by_default(clock: Clock) -> None:
    traffic = Traffic()
    assert all(traffic.arrive()[1:] == (None, 0.0) for _ in range(100))


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        TrafficSettings.from_json({"fault_fraction": 1.5})
    with pytest.raises(ValueError):
        TrafficSettings.from_json({"latency": 300})


def test_rate_windows_find_the_densest_second_and_the_burst_mean() -> None:
    arrivals = [0.0, 0.1, 0.5, 0.95, 1.0, 1.2, 1.9, 2.5, 2.6, 2.7, 2.8, 2.99, 5.0]
    rates = rate_windows(arrivals, 0.2, 3.2)
    assert rates.max_second == 5  # second 2: 2.5 .. 2.99
    assert rates.max_sliding == 5  # 2.5 .. 2.99 (the second ending at 2.99 leaves 1.9 out)
    assert rates.windows == 2 and rates.mean == pytest.approx((3 + 5) / 2)  # seconds 1 and 2 lie inside
    denser = rate_windows([0.5, 0.6, 0.7, 1.1, 1.2, 1.3], 0.0, 2.0)
    assert (denser.max_second, denser.max_sliding) == (3, 6)


def _pass(**changes: object) -> PassResult:
    base = PassResult("p", 2, 1, 10, 10, 300, 0.05, 1.0, True, [1.0, 2.0], [0.5], Counter({1: 2}), Counter({1: 1}))
    base.charges = Counter({1: 2})
    base.rate = RateWindows(9.0, 10, 11, 8)
    base.probe = {"orders": 10, "new": 2.0, "second": 0.0, "redelivery": 0.0}
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_acceptance_says_no_to_each_missed_figure() -> None:
    assert acceptance(_pass(), _pass()) == []
    assert acceptance(_pass(), _pass(dead_letters=1))
    assert acceptance(_pass(), _pass(payment_outcomes=Counter({1: 1, 2: 1})))
    assert acceptance(_pass(), _pass(refund_outcomes=Counter({0: 1})))
    assert acceptance(_pass(), _pass(charges=Counter({1: 1, 2: 1})))
    assert acceptance(_pass(), _pass(over_refunded=1))
    assert acceptance(_pass(), _pass(rate=RateWindows(9.0, 11, 11, 8)))
    assert acceptance(_pass(), _pass(rate=RateWindows(8.4, 10, 10, 8)))
    assert acceptance(_pass(), _pass(payment_times=[1.0, 6.1]))  # p99 above 3 x 2.0
    assert acceptance(_pass(), _pass(payment_times=[1.0, math.inf]))  # an order without an outcome waits for ever
    assert acceptance(_pass(payment_times=[1.0, math.inf]), _pass())  # no fault-free p99 to compare with
    assert acceptance(_pass(), _pass(complete=False))
    assert acceptance(_pass(probe={"orders": 10, "new": 3.0, "second": 0.0, "redelivery": 0.0}), _pass())
    assert acceptance(_pass(probe={"orders": 10, "new": 2.0, "second": 0.5, "redelivery": 0.0}), _pass())
    assert acceptance(_pass(probe={}), _pass())  # the probe got no outcome in time: not known, so not met


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nbefore\n\n{BEGIN}\nold figures\n{END}\n\nafter\n", encoding="utf-8")
    write_section(page, f"{BEGIN}\nnew figures\n{END}\n")
    text = page.read_text(encoding="utf-8")
    assert "new figures" in text and "old figures" not in text
    assert text.startswith("# Performance\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    fresh = tmp_path / "fresh.md"
    fresh.write_text("# Page\n", encoding="utf-8")
    write_section(fresh, f"{BEGIN}\nx\n{END}\n")
    assert fresh.read_text(encoding="utf-8") == f"# Page\n\n{BEGIN}\nx\n{END}\n"
