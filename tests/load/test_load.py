"""``make load``'s small default run, asserting issue 19's acceptance figures from one run of two passes.

It runs beside the moto suites (``make test`` starts it in the background once the static checks have ended):
a fresh MiniStack on a free loopback port runs the payment and refund functions of ``build/lambda.zip``
concurrently (``MaximumConcurrency`` of ``envs/local``), the local Stripe's fault proxy plays Stripe (300 ms per
request +/- 30 %, a rate limiter at the budget answering 429, 5 % transient 500s in the faulted pass), and
``LOAD_ORDERS`` orders (default 60) send both payment triggers at once, a fifth of them cancelled once paid.

The gateway budget is the local stack's ``gateway_budget_per_second`` Terraform variable, set to 10 requests/s for
the run as ``make load`` sets it (``TF_VAR_gateway_budget_per_second``): what these 2-core machines drive with five
invocations per mapping (docs/performance.md, "Load").

Each figure turns red when its property is removed: the budget ignored (the rate goes above it and the limiter
answers 429), the limiter or the faults dropped, a refund or charge made twice (counted at localstripe per order),
a retry dead-lettered (the DLQs are counted), an outcome published twice or never (distinct event ids per order).

What is asserted holds on a busy machine, because it is counts and ratios, never an absolute time: 0 dead letters,
one outcome per order, at most one charge, refunds at most the charge, 2 / 0 / 0 requests per payment, at most the
budget in every clock second, a burst mean of at least 0.85 x the budget (its slots sustain 0.90 x), the faulted
p99 at most 3 x the fault-free p99 (both are mostly the wait behind the budget). The run takes about a minute
(55 s at a load average of 6 on the 2 cores, beside the unit, integration and reliability suites); its deadline,
300 s, only bounds it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from tests.support.emulator import free_port
from tools.devstack.load import Options, run
from tools.devstack.load_report import PassResult
from tools.devstack.load_stack import BUDGET_VARIABLE

REPO = Path(__file__).resolve().parents[2]
LOAD_BUDGET = "10"
ORDERS = int(os.environ.get("LOAD_ORDERS", "60"))


@pytest.fixture(scope="module")
def passes(tmp_path_factory: pytest.TempPathFactory) -> tuple[PassResult, PassResult]:
    if not (REPO / "build" / "lambda.zip").is_file():
        pytest.fail("build/lambda.zip is missing: run `make package` first", pytrace=False)
    os.environ.setdefault(BUDGET_VARIABLE, LOAD_BUDGET)
    options = Options(
        orders=ORDERS,
        port=free_port(),
        stripe_port=free_port(),
        run_dir=tmp_path_factory.mktemp("load"),
        deadline_seconds=300,  # a bound on a busy machine (make test runs it beside the other suites), not a target
        command="pytest tests/load",
    )
    _status, free, faulted = run(options)
    assert free is not None and faulted is not None, "the load run did not finish (see its output above)"
    return free, faulted


def test_budget_is_the_local_stacks(passes: tuple[PassResult, PassResult]) -> None:
    free, faulted = passes
    assert free.budget == faulted.budget == int(os.environ[BUDGET_VARIABLE])
    assert faulted.limiter == faulted.budget  # the limiter at the budget
    assert faulted.fault_fraction == pytest.approx(0.05)
    assert faulted.injected_500 > 0, "the faulted pass met no transient fault: the proxy's fault fraction is off"


def test_every_order_ends_in_exactly_one_outcome_without_dead_letters(passes: tuple[PassResult, PassResult]) -> None:
    for p in passes:
        assert p.complete, f"{p.name}: not every order got its outcome"
        assert p.dead_letters == 0, f"{p.name}: {p.dead_letters} dead letters"
        assert p.payment_outcomes == {1: p.orders}, f"{p.name}: payment outcomes per order {p.payment_outcomes}"
        assert p.refund_outcomes == {1: p.refunds_asked}, f"{p.name}: refund outcomes {p.refund_outcomes}"


def test_money_moves_at_most_once_per_order(passes: tuple[PassResult, PassResult]) -> None:
    for p in passes:
        assert max(p.charges) <= 1, f"{p.name}: charges per order {p.charges}"
        assert p.charges == {1: p.orders}, f"{p.name}: every order here pays with a card that succeeds"
        assert p.over_refunded == 0, f"{p.name}: {p.over_refunded} orders refunded above their charge"
        assert p.refunds == {1: p.refunds_asked}, f"{p.name}: refunds per cancelled order at Stripe {p.refunds}"


def test_gateway_requests_per_payment(passes: tuple[PassResult, PassResult]) -> None:
    probe = passes[0].probe
    assert probe, "the probe orders got no outcome in time"
    assert (probe["new"], probe["second"], probe["redelivery"]) == (2.0, 0.0, 0.0)


def test_faults_cost_at_most_three_times_the_fault_free_p99(passes: tuple[PassResult, PassResult]) -> None:
    free, faulted = passes
    assert math.isfinite(free.p(99)), "the fault-free pass left orders without an outcome: no p99 to compare with"
    assert faulted.p(99) <= 3 * free.p(99), f"p99 {faulted.p(99):.1f} s with faults vs {free.p(99):.1f} s without"


def test_the_burst_runs_at_the_budget_and_never_above_it_in_any_clock_second(
    passes: tuple[PassResult, PassResult],
) -> None:
    """Judged per clock second, the budget's own slots, over the whole pass: at most the budget in each; the mean over
    the burst's whole seconds (while a full round of invocations still waits in the queues) at least 0.85 x it.
    A sliding 1 s window may hold one request more (docs/performance.md, "Load"): reported, not judged here."""
    for p in passes:
        assert p.rate.windows >= 5, f"{p.name}: the burst lasted {p.rate.windows} whole seconds: too short to judge"
        assert p.rate.max_second <= p.budget, f"{p.name}: {p.rate.max_second} requests in one second"
        assert p.rate.mean >= 0.85 * p.budget, f"{p.name}: {p.rate.mean:.2f} requests/s over the burst"
        assert p.rate_limited == 0, f"{p.name}: Stripe's limiter answered {p.rate_limited} x 429"
