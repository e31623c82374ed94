"""The order the suites run in when one pytest process runs several of them (``make test`` runs the moto suites so).

Pytest collects folders and files by name; three needs of the run are stated here by name instead:
- the suites that send nothing to the emulator run first, while ``deployed_stack`` applies Terraform (its ~100 s of
  waiting overlaps them);
- the IAM check (``tests/iam_policies``) runs last: it judges every AWS call the whole run recorded;
- the leak scan (``tests/reliability/test_leak_scan.py``) runs last in its suite: it scans every log line, table
  item and published event the reliability tests before it produced.
Everything else keeps pytest's order (the behaviour suite before the suites that publish to the default bus, whose
events the stack's rules would queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar

TESTS = Path(__file__).resolve().parents[1]
AHEAD_OF_THE_STACK = ("unit", "decisions", "ports", "contract", "site", "bindings")
LAST_SUITE = "iam_policies"
LAST_IN_SUITE = {"reliability": "test_leak_scan.py"}


class Collected(Protocol):
    @property
    def path(self) -> Path: ...


Item = TypeVar("Item", bound=Collected)


def suite_of(path: Path) -> str:
    """The folder under ``tests/`` a test file belongs to ("" for a file elsewhere or directly in ``tests/``)."""
    if not path.is_relative_to(TESTS):
        return ""
    parts = path.relative_to(TESTS).parts
    return parts[0] if len(parts) > 1 else ""


def run_order(items: Sequence[Item]) -> list[Item]:
    """``items`` in the order to run them: the suites ahead of the stack, the others in the order pytest collected
    them, the IAM check; within each suite pytest's order, but its last file last."""
    first_seen: dict[str, int] = {}
    for item in items:
        first_seen.setdefault(suite_of(item.path), len(first_seen))

    def key(item: Item) -> tuple[int, int, bool]:
        suite = suite_of(item.path)
        group = 0 if suite in AHEAD_OF_THE_STACK else 2 if suite == LAST_SUITE else 1
        return group, first_seen[suite], item.path.name == LAST_IN_SUITE.get(suite)

    return sorted(items, key=key)  # stable: equal keys keep pytest's order
