"""Shared paths and loaders for the contract tests (kept out of conftest so that imports are explicit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
EXAMPLES = SCHEMAS / "examples"
SAMPLE_EVENTS = REPO / "events"

# The service's contract surface per docs/design.md: detail-type -> (source, direction).
EXPECTED_EVENTS: dict[str, tuple[str, str]] = {
    "inventory.reserved": ("novamart.inventory", "consumed"),
    "order.ready_for_payment": ("novamart.orders", "consumed"),
    "inventory.reservation_failed": ("novamart.inventory", "consumed"),
    "order.cancelled": ("novamart.orders", "consumed"),
    "payment.succeeded": ("novamart.payments", "published"),
    "payment.failed": ("novamart.payments", "published"),
    "payment.action_required": ("novamart.payments", "published"),
    "payment.disputed": ("novamart.payments", "published"),
    "refund.succeeded": ("novamart.payments", "published"),
    "refund.failed": ("novamart.payments", "published"),
}


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def valid_examples() -> list[tuple[str, Path]]:
    return [(p.parts[-4], p) for p in sorted(EXAMPLES.glob("*/v*/valid/*.json"))]


def invalid_examples() -> list[tuple[str, Path]]:
    return [(p.parts[-4], p) for p in sorted(EXAMPLES.glob("*/v*/invalid/*.json"))]


def example_id(item: tuple[str, Path]) -> str:
    dt, path = item
    return f"{dt}/{path.parent.parent.name}/{path.stem}"


def object_pointers(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in ``node`` with its JSON pointer, outermost first."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from object_pointers(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from object_pointers(value, f"{pointer}/{i}")


def string_leaves(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from string_leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from string_leaves(value)
