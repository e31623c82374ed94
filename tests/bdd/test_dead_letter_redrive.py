"""Scenarios of features/dead_letter_redrive.feature (shared steps in tests/bdd/conftest.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.ops_tool import run_ops
from tests.bdd.world import SETTLE_TIMEOUT, Order, World
from tools.devstack.aws import wait_until
from tools.ops import QUEUES

scenarios("../../features/dead_letter_redrive.feature")


@pytest.fixture
def redrive_output() -> dict[str, str]:
    return {}


@then(parsers.parse("the trigger waits in the {queue} dead-letter queue"))
def waits_in_dlq(world: World, order: Order, queue: str) -> None:
    url = world.sqs.get_queue_url(QueueName=f"{QUEUES[queue]}-dlq")["QueueUrl"]

    def in_dlq() -> list[dict[str, Any]]:
        got = world.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [m for m in got.get("Messages", []) if order.order_id in m["Body"]]

    found = wait_until(in_dlq, SETTLE_TIMEOUT, f"the trigger in the {queue} DLQ", 0.5)
    assert len(found) == 1


@when(parsers.parse("the gateway is back and the {queue} dead letters are redriven as a dry run"))
def redrive_dry_run(world: World, queue: str, redrive_output: dict[str, str]) -> None:
    world.gateway.faults.clear()
    redrive_output["dry"] = run_ops(world, "redrive", "--queue", queue, "--dry-run")


@then("the redrive showed the order's trigger with its age and moved nothing")
def dry_run_shown(order: Order, redrive_output: dict[str, str]) -> None:
    out = redrive_output["dry"]
    assert re.search(r"-dlq: 1 dead letter\(s\), oldest [0-9.]+ (s|min|h)", out), out
    assert "order.ready_for_payment eventId=" in out and f"orderId={order.order_id}" in out, out
    assert "pm_" not in out  # never the payment method
    assert "dry run: nothing moved" in out, out


@when(parsers.parse("the {queue} dead letters are redriven"))
def redrive(world: World, order: Order, queue: str) -> None:
    out = run_ops(world, "redrive", "--queue", queue)
    assert re.search(r"done: 0 left in .*-dlq", out), out
    wait_until(lambda: world.published(order), SETTLE_TIMEOUT, "the redriven trigger's outcome", 0.5)
