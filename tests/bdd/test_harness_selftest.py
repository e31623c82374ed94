"""The harness catches a broken handler.

A suite that passes whatever the handler does proves nothing. Here the local Lambda service runs the payment
function with a deliberately broken handler - one that charges on every delivery (its gateway idempotency key
and payment id name the delivery, not the order) - and the exact check the duplicate scenarios use
(``charged_once_problems``) must go red. The same check stays green for the real handler on the same input.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from novamart_payments.timestamps import utc_now

from tests.bdd.world import Order, World, charged_once_problems
from tools.devstack.aws import PAYMENT_FUNCTION, client
from tools.devstack.events import put_events
from tools.devstack.lambda_service import LocalLambdaService

pytestmark = pytest.mark.harness


def double_charging_handler(world: World) -> Any:
    """A payment handler that forgot idempotency: every delivery charges, records and publishes anew."""
    from novamart_payments.domain import Money

    stripe = world.gateway.stripe.client()
    ddb = client("dynamodb", world.endpoint_url, world.region)
    events = client("events", world.endpoint_url, world.region)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            trigger = json.loads(record["body"])
            data, meta = trigger["detail"]["data"], trigger["detail"]["metadata"]
            amount = Money(data["amount"]["minorUnits"], data["amount"]["currency"])
            intent = stripe.v1.payment_intents.create(  # BUG: a new intent per delivery
                params={
                    "amount": amount.minor_units,
                    "currency": amount.currency.lower(),
                    "payment_method": data["paymentMethod"]["token"],
                    "metadata": {"orderId": data["orderId"]},
                }
            )
            charged = stripe.v1.payment_intents.confirm(intent.id)
            transaction_id = (
                charged.latest_charge if isinstance(charged.latest_charge, str) else charged.latest_charge.id
            )
            payment_id = str(uuid.uuid4())  # BUG: per delivery, so the table cannot refuse the second item
            ddb.put_item(
                TableName=world.stack.payment_table,
                Item={
                    "paymentId": {"S": payment_id},
                    "orderId": {"S": data["orderId"]},
                    "customerId": {"S": data["customerId"]},
                    "amount": {"N": str(amount.minor_units)},
                    "currency": {"S": amount.currency},
                    "status": {"S": "SUCCEEDED"},
                    "transactionId": {"S": str(transaction_id)},
                },
            )
            outcome = {
                "source": "novamart.payments",
                "detail-type": "payment.succeeded",
                "detail": {
                    "metadata": {
                        "eventId": str(uuid.uuid4()),
                        "schemaVersion": "1.0",
                        "correlationId": meta["correlationId"],
                        "causationId": meta["eventId"],
                        "occurredAt": utc_now(),
                    },
                    "data": {
                        "paymentId": payment_id,
                        "orderId": data["orderId"],
                        "customerId": data["customerId"],
                        "amount": data["amount"],
                        "status": "SUCCEEDED",
                        "transactionId": str(transaction_id),
                    },
                },
            }
            put_events(events, world.bus, [outcome])
        return {"batchItemFailures": []}

    return handler


def _deliver_twice(world: World, service: LocalLambdaService, order: Order) -> None:
    event = world.payment_trigger(order)
    world.put(order, event)
    world.put(order, event)
    service.run_until_idle(timeout=60)
    world.audit.poll()


def test_duplicate_check_goes_red_for_a_handler_that_charges_every_delivery(world: World) -> None:
    assert world.service is not None
    order = Order(minor_units=2599)
    broken = LocalLambdaService(
        world.endpoint_url, world.region, handler_overrides={PAYMENT_FUNCTION: double_charging_handler(world)}
    )
    broken.discover()
    broken.mappings = [m for m in broken.mappings if m.function.name == PAYMENT_FUNCTION]
    with world.service.paused():
        _deliver_twice(world, broken, order)
    assert [t.state for t in broken.tracks.values()] == ["succeeded", "succeeded"]
    problems = charged_once_problems(world, order)
    assert any("2 distinct payment.succeeded" in p for p in problems), problems
    assert any("charged the order 2 times" in p for p in problems), problems
    assert any("payments table holds" in p for p in problems), problems


def test_duplicate_check_stays_green_for_the_real_handler(world: World) -> None:
    assert world.service is not None
    order = Order(minor_units=2599)
    real = LocalLambdaService(world.endpoint_url, world.region)
    real.discover()
    real.mappings = [m for m in real.mappings if m.function.name == PAYMENT_FUNCTION]
    with world.service.paused():
        _deliver_twice(world, real, order)
    assert charged_once_problems(world, order) == []
