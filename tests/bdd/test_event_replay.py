"""Scenarios of features/event_replay.feature (shared steps in tests/bdd/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.ops_tool import run_ops
from tests.bdd.world import SETTLE_TIMEOUT, Order, World
from tools.devstack.aws import wait_until

scenarios("../../features/event_replay.feature")


@pytest.fixture
def window() -> dict[str, datetime]:
    return {}


@given("the time before the order is placed")
def time_before(window: dict[str, datetime]) -> None:
    window["from"] = datetime.now(UTC) - timedelta(seconds=1)


@when("the events published since then are replayed from the archive")
def replayed(world: World, window: dict[str, datetime]) -> None:
    until = datetime.now(UTC) + timedelta(seconds=1)
    out = run_ops(world, "replay", "--from", window["from"].isoformat(), "--to", until.isoformat())
    assert "COMPLETED" in out, out


@then(parsers.parse('the order\'s "{detail_type}" event is delivered again with the same eventId'))
def delivered_again(world: World, order: Order, detail_type: str) -> None:
    def copies_so_far() -> list[Any] | None:
        found = world.published(order, detail_type)
        return found if len(found) >= 2 else None

    copies = wait_until(copies_so_far, SETTLE_TIMEOUT, f"the replayed {detail_type}", 0.5)
    assert len({str(e.metadata.get("eventId")) for e in copies}) == 1, [e.metadata for e in copies]
