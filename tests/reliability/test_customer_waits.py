"""docs/performance.md's customer waits are what the Terraform values of envs/aws give, within the issue's limits."""

from __future__ import annotations

from pathlib import Path

from tests.reliability import customer_waits as cw

DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def test_the_committed_block_is_what_the_terraform_values_give() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert cw.merged(document, cw.render()) == document, (
        "docs/performance.md is stale: python -m tests.reliability.customer_waits --write docs/performance.md"
    )


def test_one_500_costs_at_most_10_s_and_one_429_at_most_60_s() -> None:
    waits = cw.from_terraform()
    assert cw.one_500(waits) <= 10
    assert cw.one_429(waits) <= 60


def test_an_outage_past_the_horizon_ends_in_reconciliation_not_in_a_manual_step() -> None:
    waits = cw.from_terraform()
    assert waits.reconcile_after > waits.horizon  # a trigger still being retried is left alone
    assert cw.outage(waits, 2 * 3600) <= waits.reconcile_after + waits.reconcile_every + 2 * 3600
