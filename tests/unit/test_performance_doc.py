"""docs/performance.md's customer waits and cost per million payments are generated from the Terraform values of
``envs/aws`` (issue 19): a value changed without ``make docs`` leaves the committed block stale, which
``make docs-check`` reports. Each case changes one value in a copy of terraform/ and renders the block again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability import costs, customer_waits

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "performance.md"


def committed_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    return (
        customer_waits.BEGIN
        + text.split(customer_waits.BEGIN, 1)[1].split(customer_waits.END, 1)[0]
        + (customer_waits.END + "\n")
    )


CHANGES = {
    # name: (file under terraform/, the variable's block, old, new, a line of the block that must change)
    "Lambda memory": (
        "modules/service/variables.tf",
        "lambda_memory_size",
        "default     = 256",
        "default     = 512",
        "| Lambda |",
    ),
    "Stripe latency": (
        "envs/aws/variables.tf",
        "gateway_request_latency_ms",
        "default     = 300",
        "default     = 400",
        "| 10,000-order burst |",
    ),
    "gateway budget": (
        "envs/aws/variables.tf",
        "gateway_budget_per_second",
        "default     = 80",
        "default     = 40",
        "| 10,000-order burst |",
    ),
    "a deprecated major of payment.succeeded": (
        "modules/service/variables.tf",
        "event_majors",
        '"payment.succeeded"       = { current = 1 }',
        '"payment.succeeded"       = { current = 2, deprecated = { "1" = "2027-06-30" } }',
        "| EventBridge |",
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_terraform_value_changed_without_regenerating_leaves_the_block_stale(change: str, tmp_path: Path) -> None:
    file, variable, old, new, row = CHANGES[change]
    copy = tmp_path / "terraform"
    shutil.copytree(REPO / "terraform", copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    path = copy / file
    text = path.read_text(encoding="utf-8")
    start = text.index(f'variable "{variable}"')
    block = text[start:]
    assert old in block, old
    path.write_text(text[:start] + block.replace(old, new, 1), encoding="utf-8")
    rendered = customer_waits.render(copy)
    committed = committed_block()
    assert rendered != committed
    changed = {line.split(" | ")[0] + " |" for line in set(rendered.splitlines()) - set(committed.splitlines())}
    assert row in changed, changed


def test_every_line_prices_a_count_and_names_its_source() -> None:
    inputs = customer_waits.cost_inputs(customer_waits.from_terraform())
    lines = costs.lines(inputs)
    assert [x.service for x in lines] == list(costs.SOURCES)
    assert all(x.per_million >= 0 and " x $" in x.arithmetic for x in lines)
    assert inputs.gsis == 2 and inputs.payment_succeeded_majors == 1 and inputs.requests_per_payment == 2
