"""Facts are written once (issue 22): the function count, timeouts, time budget, environment variables and the
Terraform inputs and outputs are generated into the README, docs/ and the module READMEs, so a change to any of
them without `make docs` makes `make docs-check` fail. Each test changes one source in a copy of the checkout and
shows that the generated pages no longer match the committed ones."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.docgen.facts import PAGES, Facts

REPO = Path(__file__).resolve().parents[2]
CONFIG = "lambda_src/novamart_payments/config.py"


@pytest.fixture(scope="module")
def committed() -> dict[Path, str]:
    rendered = Facts(REPO).render()
    return {path.relative_to(REPO): text for path, text in rendered.items()}


def test_the_committed_pages_carry_the_facts_as_generated(committed: dict[Path, str]) -> None:
    stale = [str(rel) for rel, text in committed.items() if (REPO / rel).read_text(encoding="utf-8") != text]
    assert stale == [], "run `make docs`"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "<!-- fact:function-count -->four<!-- /fact --> AWS Lambda functions" in readme
    assert set(PAGES) <= {str(rel) for rel in committed}


def _copy(tmp: Path) -> Path:
    shutil.copytree(REPO / "terraform", tmp / "terraform", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    (tmp / CONFIG).parent.mkdir(parents=True)
    shutil.copy2(REPO / CONFIG, tmp / CONFIG)
    for page in PAGES:
        (tmp / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / page, tmp / page)
    return tmp


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


CHANGES: dict[str, tuple[str, str, str, str]] = {
    # name: (file, old, new, a page that must go stale)
    "a Terraform default": (
        "terraform/modules/event_archive/variables.tf",
        "default     = 30",
        "default     = 31",
        "terraform/modules/event_archive/README.md",
    ),
    "the Lambda timeout": (
        "terraform/envs/aws/variables.tf",
        "default     = 210",
        "default     = 240",
        "README.md",
    ),
    "the Stripe timeout in the code": (
        CONFIG,
        '"STRIPE_TIMEOUT_SECONDS", 5.0,',
        '"STRIPE_TIMEOUT_SECONDS", 6.0,',
        "docs/design.md",
    ),
    "the function list": (
        "terraform/modules/service/main.tf",
        "    reconciler = {\n      function_name = var.reconciler_function_name",
        '    reconciler = {\n      function_name = "novamart-reconciler-renamed"',
        "docs/design.md",
    ),
    "the latency that sizes the mapping concurrency": (
        "terraform/envs/aws/variables.tf",
        "default     = 300\n",
        "default     = 400\n",
        "docs/go-live.md",
    ),
    "a Terraform output": (
        "terraform/envs/aws/outputs.tf",
        'output "webhook_url" {',
        'output "webhook_endpoint" {',
        "terraform/README.md",
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_without_regenerating_makes_the_pages_stale(
    change: str, tmp_path: Path, committed: dict[Path, str]
) -> None:
    root = _copy(tmp_path)
    file, old, new, page = CHANGES[change]
    if file == "terraform/envs/aws/variables.tf":
        text = (root / file).read_text(encoding="utf-8")
        variable = "gateway_request_latency_ms" if "latency" in change else "lambda_timeout_seconds"
        block = text[text.index(f'variable "{variable}"') :]
        (root / file).write_text(text.replace(block, block.replace(old, new, 1), 1), encoding="utf-8")
    else:
        _edit(root / file, old, new)
    rendered: Callable[[], dict[Path, str]] = Facts(root).render
    stale = {str(p.relative_to(root)) for p, text in rendered().items() if committed.get(p.relative_to(root)) != text}
    assert page in stale
