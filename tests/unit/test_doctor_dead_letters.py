"""``make doctor`` tells the designed dead letters (contract rejections) from the ones that need an operator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tools.devstack.commands.doctor import _age, is_contract_rejection

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = json.loads((ROOT / "events" / "order-placed.json").read_text())


def _delivered(event: dict[str, object]) -> str:
    """The body SQS holds: the event as the EventBridge rule delivered it (envelope fields added)."""
    return json.dumps({"version": "0", "id": "e-1", "account": "000000000000", "region": "us-east-2", **event})


def test_a_valid_trigger_in_a_dlq_is_unexpected() -> None:
    assert not is_contract_rejection(_delivered(SAMPLE))


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "{}"])
def test_a_body_that_is_no_event_is_a_contract_rejection(body: str) -> None:
    assert is_contract_rejection(body)


def test_a_trigger_breaking_its_schema_is_a_contract_rejection() -> None:
    broken = copy.deepcopy(SAMPLE)
    del broken["detail"]["data"]["customerId"]
    assert is_contract_rejection(_delivered(broken))


def test_ages_read_as_seconds_minutes_hours() -> None:
    assert [_age(s) for s in (5, 600, 3 * 3600)] == ["5 s", "10 min", "3 h"]
