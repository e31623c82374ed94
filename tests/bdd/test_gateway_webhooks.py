"""Scenarios of features/gateway_webhooks.feature; the steps only this feature uses post to the webhook function's
URL as Stripe does (shared steps in tests/bdd/conftest.py)."""

from __future__ import annotations

import copy
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.world import Order, World
from tests.support.webhooks import WEBHOOK_SECRET, signed_request, stripe_events

scenarios("../../features/gateway_webhooks.feature")


@pytest.fixture
def answers() -> list[int]:
    return []


@pytest.fixture
def posted_ids() -> list[str]:
    return []


def _post(world: World, event: dict[str, Any], secret: str, answers: list[int]) -> None:
    request = signed_request(event, secret)
    http = urllib.request.Request(
        world.webhook_url, data=request["body"].encode(), headers=request["headers"], method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=30) as response:
            answers.append(response.status)
    except urllib.error.HTTPError as err:
        answers.append(err.code)
    world.audit.poll()


def _intent_event(world: World, order: Order, kind: str) -> dict[str, Any]:
    """An event of ``kind`` about the order's intent, shaped as Stripe sends it, with the intent as it is now."""
    (item,) = world.payments(order)
    intent = world.gateway.stripe.client().v1.payment_intents.retrieve(str(item["intentId"])).to_dict()
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": copy.deepcopy(intent)},
    }


@when(parsers.parse('Stripe delivers the order\'s "{kind}" event again'))
def deliver_again(world: World, order: Order, kind: str, answers: list[int]) -> None:
    (item,) = world.payments(order)
    found = [e for e in stripe_events(world.gateway.stripe.client(), str(item["intentId"])) if e["type"] == kind]
    assert found, f"no {kind} event about the order's intent"
    _post(world, found[-1], WEBHOOK_SECRET, answers)


@when(parsers.parse('a "{kind}" event for the order\'s intent is posted with a wrong signature'))
def forged(world: World, order: Order, kind: str, answers: list[int], posted_ids: list[str]) -> None:
    event = _intent_event(world, order, kind)
    event["id"] = f"evt_forged{uuid.uuid4().hex[:12]}"
    event["data"]["object"]["status"] = "succeeded"
    posted_ids.append(event["id"])
    _post(world, event, "whsec_not_the_endpoints_secret", answers)


@when(parsers.parse('an older "{kind}" event for the order\'s intent arrives late'))
def late(world: World, order: Order, kind: str, answers: list[int]) -> None:
    event = _intent_event(world, order, kind)
    event["id"] = f"evt_late{uuid.uuid4().hex[:12]}"
    event["created"] = int(time.time()) - 60
    event["data"]["object"]["status"] = "requires_payment_method"
    _post(world, event, WEBHOOK_SECRET, answers)


@then(parsers.parse("the webhook is answered {status:d}"))
def answered(answers: list[int], status: int) -> None:
    assert answers and answers[-1] == status, answers


@then("no webhook event is recorded as handled for the order")
def nothing_recorded(world: World, posted_ids: list[str]) -> None:
    assert posted_ids
    assert [i for i in posted_ids if world.webhook_event_handled(i)] == []
