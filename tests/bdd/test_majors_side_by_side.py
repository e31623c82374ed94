"""Scenarios of features/majors_side_by_side.feature: consumers pinned to a major by an EventBridge rule.

Each consumer is what a consuming team deploys: a rule on the service's bus matching one detail-type and a
``{"prefix": "N."}`` on ``detail.metadata.schemaVersion``, delivering to a queue of its own. The other steps are
the shared ones of tests/bdd/conftest.py.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_bdd import given, parsers, scenarios, then

from tests.bdd.world import SETTLE_TIMEOUT, Order, World
from tools.devstack.aws import client, wait_until

scenarios("../../features/majors_side_by_side.feature")

CONSUMER_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "consumer"


@dataclass
class Consumer:
    """One consuming team's subscription: a rule with a schemaVersion prefix, delivering to its own queue."""

    prefix: str
    rule: str
    queue_url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def for_order(self, order: Order, detail_type: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.received
            if e["detail-type"] == detail_type and e["detail"]["data"].get("orderId") == order.order_id
        ]


@pytest.fixture
def consumers(world: World) -> Iterator[dict[str, Consumer]]:
    made: dict[str, Consumer] = {}
    yield made
    for consumer in made.values():
        world.events.remove_targets(Rule=consumer.rule, EventBusName=world.bus, Ids=["consumer"])
        world.events.delete_rule(Name=consumer.rule, EventBusName=world.bus)
        world.sqs.delete_queue(QueueUrl=consumer.queue_url)


# A configuration change answers once the emulator has stopped the function's warm workers: MiniStack does that
# inside the request, a couple of seconds per function, longer on a busy machine (CI saw 10 s read timeouts).
CONFIGURE_TIMEOUT = 60.0


def _lambda(world: World) -> Any:
    return client("lambda", world.endpoint_url, world.region, timeout=CONFIGURE_TIMEOUT)


def _set_environment(lam: Any, name: str, env: dict[str, str]) -> None:
    """Set a function's environment and wait until the update is done, as a deploy does (Lambda refuses a second
    update while one is in progress, and runs the old configuration until then)."""
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})

    def finished() -> str | None:
        status = str(lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus", "Successful"))
        return None if status == "InProgress" else status

    status = wait_until(finished, CONFIGURE_TIMEOUT, f"the configuration update of {name}", interval=0.2)
    assert status == "Successful", f"the configuration update of {name} ended {status}"


@pytest.fixture
def windows(world: World) -> Iterator[dict[str, dict[str, str]]]:
    """The functions' EVENT_MAJORS as deployed, put back after the scenario (the stand-in rereads it)."""
    lam = _lambda(world)
    saved: dict[str, dict[str, str]] = {}
    yield saved
    for name, env in saved.items():
        _set_environment(lam, name, env)
    if saved:
        _new_containers(world)


@given(parsers.parse('the window of "{detail_type}" {major:d}.x ended yesterday'))
def window_ended(world: World, windows: dict[str, dict[str, str]], detail_type: str, major: int) -> None:
    """What the platform team does to end a window early: Terraform's event_majors, here set on the functions."""
    lam = _lambda(world)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    for fn in sorted({m.function.name for m in world.stack.mappings}):
        env = dict(lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"])
        if "EVENT_MAJORS" not in env:
            continue  # not one of the service's functions (the harness's own probes)
        windows[fn] = dict(env)
        table = json.loads(env["EVENT_MAJORS"])
        assert str(major) in table[detail_type]["deprecated"], f"{detail_type} {major}.x is not in its window"
        table[detail_type]["deprecated"][str(major)] = yesterday
        env["EVENT_MAJORS"] = json.dumps(table)
        _set_environment(lam, fn, env)
    assert any("refund" in fn for fn in windows), f"no refund function with EVENT_MAJORS among {sorted(windows)}"
    _new_containers(world)


def _new_containers(world: World) -> None:
    """On Lambda (and MiniStack) a configuration change starts new containers. The stand-in reads each function's
    environment when it discovers the stack: rediscover. Its runtime drops what was built from the old environment
    (configuration, clients, the service and its publisher) when it runs a function in the new one
    (tools/devstack/lambda_runtime.py), whatever ran in between (the webhook function keeps the old window)."""
    if world.service is not None:
        world.service.discover()


@given(parsers.parse('a consumer of "{detail_type}" subscribed with {{"prefix": "{prefix}"}}'))
def subscribed(world: World, consumers: dict[str, Consumer], detail_type: str, prefix: str) -> None:
    name = f"consumer-v{prefix.rstrip('.')}-{uuid.uuid4().hex[:8]}"
    url = world.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["novamart.payments"],
        "detail-type": [detail_type],
        "detail": {"metadata": {"schemaVersion": [{"prefix": prefix}]}},
    }
    world.events.put_rule(Name=name, EventBusName=world.bus, EventPattern=json.dumps(pattern))
    world.events.put_targets(Rule=name, EventBusName=world.bus, Targets=[{"Id": "consumer", "Arn": arn}])
    consumers[prefix] = Consumer(prefix, name, url)


def _drain(world: World, consumer: Consumer) -> None:
    while True:
        got = world.sqs.receive_message(QueueUrl=consumer.queue_url, MaxNumberOfMessages=10).get("Messages") or []
        if not got:
            return
        for message in got:
            consumer.received.append(json.loads(message["Body"]))
            world.sqs.delete_message(QueueUrl=consumer.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _received(world: World, consumer: Consumer, order: Order, detail_type: str) -> list[dict[str, Any]]:
    """What the consumer has received for the order, polled until there is something or the deadline passes."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        _drain(world, consumer)
        found = consumer.for_order(order, detail_type)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@then(
    parsers.parse(
        'the "{prefix}" consumer receives exactly one "{detail_type}" for the order, '
        "valid against its consumer schema v{major:d}"
    )
)
def receives_one(
    world: World, consumers: dict[str, Consumer], order: Order, prefix: str, detail_type: str, major: int
) -> None:
    # The other consumer's event is on the bus by the time this one has its own (one PutEvents carries both).
    world.wait_published(order, detail_type)
    events = _received(world, consumers[prefix], order, detail_type)
    assert len(events) == 1, f"the {prefix} consumer received {len(events)} {detail_type} events for the order"
    [event] = events
    assert event["detail"]["metadata"]["schemaVersion"].startswith(f"{major}.")
    schema = json.loads((CONSUMER_SCHEMAS / detail_type / f"v{major}.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(event)]
    assert problems == [], f"the {prefix} consumer's event breaks its consumer schema v{major}: {problems}"


@then(parsers.parse('both consumers received the order\'s "{detail_type}" with one eventId and code "{code}"'))
def one_event_id(consumers: dict[str, Consumer], order: Order, detail_type: str, code: str) -> None:
    events = [e for c in consumers.values() for e in c.for_order(order, detail_type)]
    assert len(events) == len(consumers) == 2
    assert len({e["detail"]["metadata"]["eventId"] for e in events}) == 1, "one fact, one eventId in every major"
    assert {e["detail"]["data"]["code"] for e in events} == {code}


@then(parsers.parse('the "{prefix}" consumer receives no "{detail_type}" for the order'))
def receives_none(world: World, consumers: dict[str, Consumer], order: Order, prefix: str, detail_type: str) -> None:
    # The editions of one outcome leave in one PutEvents: the audit tap and every other consumer already have
    # theirs (the step before waited for them), so a older-major edition would be on this queue by now.
    world.wait_published(order, detail_type)
    _drain(world, consumers[prefix])
    assert consumers[prefix].for_order(order, detail_type) == []
    assert world.published(order, detail_type), "the current major went out"
    assert all(
        not e.metadata["schemaVersion"].startswith(prefix)
        for e in world.audit.for_order(order.order_id, all_majors=True)
        if e.detail_type == detail_type
    ), f"no {prefix}x edition left the service"


@then(parsers.parse('the "{old}" consumer\'s reason is the "{new}" consumer\'s failureReason'))
def reason_carried(consumers: dict[str, Consumer], order: Order, old: str, new: str) -> None:
    [v1] = consumers[old].for_order(order, "refund.failed")
    [v2] = consumers[new].for_order(order, "refund.failed")
    assert v1["detail"]["data"]["reason"] == v2["detail"]["data"]["failureReason"]
    assert "refundReason" not in v1["detail"]["data"] and v2["detail"]["data"]["refundReason"]
