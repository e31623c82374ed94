"""Behaviour suite: fixtures and the shared step definitions for every ``features/*.feature``.

Session: the Terraform engineer's ``deployed_stack`` fixture applies ``terraform/envs/local`` into the session's
moto server once; the local Lambda service (``tools.devstack.lambda_service``) then runs in a background thread
and plays AWS Lambda, and one ``AuditLog`` reads everything the service publishes. With ``EMULATOR=ministack`` (a
fresh MiniStack on a free port, ``tests/support/ministack.py``) or ``EMULATOR=localstack`` (``AWS_ENDPOINT_URL``) the
same steps run where Lambda really runs the functions and no stand-in is started; the stack is then applied with
``terraform/envs/local/fast-redelivery.tfvars`` (tools/tf.sh adds it), so redelivery takes seconds, and the
delivery facts come from the emulator (the functions' logs, the DLQs) instead of the stand-in's journal.

Every scenario gets a fresh order (uuid ids). Trigger steps put the event on the bus and wait (with a deadline,
never a fixed sleep) until the deliveries it caused were handled, so later steps see a settled state.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from novamart_payments.timestamps import parse
from pytest_bdd import given, parsers, then, when

from tests.bdd.world import Order, World, charged_once_problems, eventually
from tests.support import stack as terraform_stack  # a module alias: pytest_progress would look like a hook
from tests.support.ministack import ministack_endpoint  # noqa: F401
from tools.devstack.audit import AuditLog
from tools.devstack.aws import emulator_kind, region_from_env, stand_in_enabled, wait_until
from tools.devstack.lambda_service import LocalLambdaService
from tools.devstack.moto_patches import patch_moto_sqs_esm_invocation
from tools.devstack.stack import discover_stack
from tools.devstack.stripe_faults import CONFIRM
from tools.devstack.urls_and_schedules import (
    UrlsAndSchedules,
    connect_webhooks,
    serve_urls_and_schedules,
    webhook_endpoint,
)

MARKERS = {
    "payments": "features about taking payment",
    "declines": "payments the gateway declines",
    "idempotency": "duplicate and concurrent deliveries",
    "refunds": "refund features",
    "partial": "partial refunds and the refund ceiling",
    "contracts": "event schemas (published and consumed)",
    "majors": "a new major published beside the old one for its deprecation window",
    "validation": "invalid events are rejected",
    "currencies": "currencies with 0, 2 and 3 minor-unit digits",
    "resilience": "transient failures and redelivery",
    "harness": "tests of the behaviour-suite harness itself (the stand-in only)",
    "later": "outcomes that arrive later: 3-D Secure, webhooks, pending refunds, disputes, reconciliation",
    "webhooks": "the webhook function: signatures, replays, ordering",
    "operations": "on-call commands: redrive dead letters, replay published events from the archive",
    "fraud": "fraud and risk: the risk rules before the charge, Stripe Radar's signals after it",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log would drown failure reports
    if stand_in_enabled():
        # The session's moto server runs in this process (tests/support/emulator.py): keep moto from "invoking"
        # mapped functions itself, which would count receives and dead-letter messages early.
        patch_moto_sqs_esm_invocation()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if stand_in_enabled():
        return
    # The features run in every mode; only the harness's own tests need the stand-in, whose handlers they swap.
    skip = pytest.mark.skip(
        reason=f"EMULATOR={emulator_kind()}: the emulator runs the functions; this tests the moto stand-in's harness"
    )
    for item in items:
        if item.get_closest_marker("harness"):
            item.add_marker(skip)


# ---- fixtures -------------------------------------------------------------------------------------------------


# Package scope: the stack itself is applied once per session (``deployed_stack``), but the stand-in and the
# audit reader stop when the last test in tests/bdd is done, so they never consume other suites' messages.
@pytest.fixture(scope="package")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    region = region_from_env()
    kind = emulator_kind()
    gateway = request.getfixturevalue("local_stripe")
    if kind == "moto":
        endpoint = request.getfixturevalue("moto_endpoint")
        request.getfixturevalue("deployed_stack")
    else:
        if kind == "ministack":
            endpoint = request.getfixturevalue("ministack_endpoint")
        else:
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or "http://localhost.localstack.cloud:4566"
        # tools/tf.sh adds fast-redelivery.tfvars for this EMULATOR; LocalStack's containers reach the local
        # Stripe through STRIPE_API_BASE_FOR_LAMBDA (docs/localstack.md).
        api_base = os.environ.get("STRIPE_API_BASE_FOR_LAMBDA") or gateway.api_base
        terraform_stack.deploy_local(
            endpoint,
            tmp_path_factory.mktemp(f"tf-{kind}"),
            progress=terraform_stack.pytest_progress(request.config),
            variables={"gateway_mode": "stripe", "stripe_api_base": api_base},
        )
    stack = wait_until(
        lambda: (s := discover_stack(endpoint, region)) and len(s.mappings) >= 2 and s.audit_queue_url and s,
        60,
        "two SQS event-source mappings and the audit queue in the deployed stack",
        0.5,
    )
    assert stack.audit_queue_url, "the audit tap is off (enable_audit_tap=false); the suite reads events from it"
    service = LocalLambdaService(endpoint, region).start() if stand_in_enabled() else None
    audit = AuditLog(endpoint, region, stack.audit_queue_url)
    if service is not None:  # the stand-in serves the webhook URL and runs the schedules, as make dev does
        served: UrlsAndSchedules | None = serve_urls_and_schedules(endpoint, region, service.invoker)
        webhook_url = served.webhook_url if served is not None else None
    else:  # the emulator serves the URL itself: point the local Stripe at it
        served = None
        found = webhook_endpoint(endpoint, region, stack)
        assert found is not None, "the deployed stack has no webhook function URL"
        connect_webhooks(endpoint, region, *found)
        webhook_url = found[1]
    assert webhook_url, "the webhook function's URL is not served"
    yield World(endpoint, region, stack, service, audit, gateway, webhook_url=webhook_url)
    if served is not None:
        served.stop()
    if service is not None:
        service.stop()


@pytest.fixture
def order() -> Order:
    return Order()


@pytest.fixture
def orders() -> list[Order]:
    """The orders of a scenario that sends one trigger per table row."""
    return []


# ---- givens ---------------------------------------------------------------------------------------------------


@given("the payment service is running")
def service_running(world: World) -> None:
    if world.service is not None:
        assert world.service._thread is not None and world.service._thread.is_alive()


@given(parsers.parse('an order for {minor:d} minor units of "{currency}" paid with "{token}"'))
def an_order(world: World, order: Order, minor: int, currency: str, token: str) -> None:
    order.minor_units, order.currency, order.token = minor, currency, world.token_for(token)


@given(parsers.parse('the order\'s customer is "{customer}"'))
def order_customer(order: Order, customer: str) -> None:
    order.customer_id = customer


@given(parsers.parse("the gateway fails every charge attempt of the next {times:d} deliveries"))
def gateway_outage(world: World, order: Order, times: int) -> None:
    """Each delivery makes 1 + STRIPE_MAX_NETWORK_RETRIES attempts (the SDK retries a 5xx within the invocation):
    fail them all, as the deployed payment function is configured."""
    assert world.gateway is not None, "needs the local Stripe's fault proxy"
    attempts = 1 + world.gateway_retries()
    world.gateway.faults.fail_next("POST", CONFIRM, times=times * attempts, status=503, order_id=order.order_id)


@given(parsers.parse('a paid order for {minor:d} minor units of "{currency}"'))
def a_paid_order(world: World, order: Order, minor: int, currency: str) -> None:
    order.minor_units, order.currency, order.token = minor, currency, "pm_card_visa"
    world.put(order, world.payment_trigger(order))
    world.settle(order)
    world.wait_published(order, "payment.succeeded")


@given(parsers.parse('the currency "{currency}" has {digits:d} minor-unit digits'))
def currency_digits(currency: str, digits: int) -> None:
    from novamart_payments.money import currency_exponent

    assert currency_exponent(currency) == digits


# ---- triggers -------------------------------------------------------------------------------------------------


@given("the order is ready for payment")
@when("the order is ready for payment")
def ready_for_payment(world: World, order: Order) -> None:
    world.put(order, world.payment_trigger(order, "order.ready_for_payment"))
    world.settle(order)


@when(parsers.parse('the order is ready for payment again for {minor:d} minor units of "{currency}"'))
def ready_again_other_amount(world: World, order: Order, minor: int, currency: str) -> None:
    world.put(order, world.payment_trigger(order, "order.ready_for_payment", minor_units=minor, currency=currency))
    world.settle(order)


@when("inventory is reserved for the order")
def inventory_reserved(world: World, order: Order) -> None:
    world.put(order, world.payment_trigger(order, "inventory.reserved"))
    world.settle(order)


@when(parsers.parse('the same "{detail_type}" event is delivered again'))
def same_event_again(world: World, order: Order, detail_type: str) -> None:
    world.put(order, order.last(detail_type))
    world.settle(order)


@when(parsers.parse('two copies of the "{detail_type}" event are delivered to concurrent invocations'))
def concurrent_copies(world: World, order: Order, detail_type: str) -> None:
    event = world.payment_trigger(order, detail_type)
    if world.service is None:  # LocalStack: Lambda decides how to batch; both copies still arrive together
        world.put(order, event, copies=2)
    else:
        # Both copies must be in the queue before a poller looks, then each gets its own, simultaneous invocation
        # (as two of Lambda's pollers would); the handlers race on the table's conditional writes.
        with world.service.paused():
            world.put(order, event, copies=2)
        with world.service.concurrent_deliveries(2):
            world.settle(order)
        assert len({rid for t in world.service.tracks_for(order.order_id) for rid in t.request_ids}) == 2
    world.settle(order)


@when("the order is cancelled")
def order_cancelled(world: World, order: Order) -> None:
    world.put(order, world.refund_trigger(order, "order.cancelled"))
    world.settle(order)


@when("inventory reservation fails for the order")
def reservation_failed(world: World, order: Order) -> None:
    world.put(order, world.refund_trigger(order, "inventory.reservation_failed"))
    world.settle(order)


@when(parsers.parse('a partial refund of {minor:d} minor units of "{currency}" is requested'))
def partial_refund(world: World, order: Order, minor: int, currency: str) -> None:
    import uuid

    event = world.refund_trigger(order, "order.cancelled", (minor, currency), request_id=f"rma-{uuid.uuid4()}")
    world.put(order, event)
    world.settle(order)


def _break(event: dict[str, Any], defect: str) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    data, metadata = broken["detail"]["data"], broken["detail"]["metadata"]
    if defect == "no customerId":
        del data["customerId"]
    elif defect == "a negative amount":
        data["amount"]["minorUnits"] = -500
    elif defect == "a zero amount":
        data["amount"]["minorUnits"] = 0
    elif defect == "an unknown currency":
        data["amount"]["currency"] = "XTS"
    elif defect == "an unexpected property":
        data["couponCode"] = "FREE-MONEY"
    elif defect == "a malformed eventId":
        metadata["eventId"] = "not-a-uuid"
    else:
        raise AssertionError(f"unknown defect {defect!r}")
    return broken


def _broken_trigger(world: World, order: Order, detail_type: str, defect: str) -> dict[str, Any]:
    if detail_type in ("order.ready_for_payment", "inventory.reserved"):
        event = world.payment_trigger(order, detail_type)
    else:
        event = world.refund_trigger(order, detail_type, (order.minor_units, order.currency), "rma-invalid")
    return _break(event, defect)


@when(parsers.parse('an "{detail_type}" event with {defect} is published for the order'))
def invalid_event(world: World, order: Order, detail_type: str, defect: str) -> None:
    world.put(order, _broken_trigger(world, order, detail_type, defect))
    world.settle(order)


_EACH_DEFECT = (
    'an "{detail_type}" event for {minor:d} minor units of "{currency}" is published with each of these defects, '
    "one order per defect"
)


@when(parsers.parse(_EACH_DEFECT))
def invalid_events(
    world: World, orders: list[Order], detail_type: str, minor: int, currency: str, datatable: list[list[str]]
) -> None:
    header, *rows = datatable
    assert header == ["defect"], header
    for (defect,) in rows:
        order = Order(minor_units=minor, currency=currency)
        orders.append(order)
        world.put(order, _broken_trigger(world, order, detail_type, defect))
    for order in orders:  # all were sent before the first wait: their redeliveries overlap
        world.settle(order)


@given(parsers.parse('"{detail_type}" is published for the order'))
@when(parsers.parse('"{detail_type}" is published for the order'))
def wait_published(world: World, order: Order, detail_type: str) -> None:
    world.wait_published(order, detail_type)


# ---- outcomes: published events -------------------------------------------------------------------------------


def _amount(event: Any) -> tuple[int, str]:
    amount = event.data.get("amount") or {}
    return amount.get("minorUnits"), amount.get("currency")


@then(parsers.parse('exactly one "{detail_type}" event is published for the order'))
@eventually
def exactly_one(world: World, order: Order, detail_type: str) -> None:
    events = world.distinct(order, detail_type)
    assert len(events) == 1, f"{len(events)} distinct {detail_type} events for {order.order_id}"


_ONE_WITH_AMOUNT = (
    'exactly one "{detail_type}" event is published for the order for {minor:d} minor units of "{currency}"'
)


@then(parsers.parse(_ONE_WITH_AMOUNT))
@eventually
def exactly_one_amount(world: World, order: Order, detail_type: str, minor: int, currency: str) -> None:
    events = world.distinct(order, detail_type)
    assert len(events) == 1, f"{len(events)} distinct {detail_type} events for {order.order_id}"
    assert _amount(events[0]) == (minor, currency)


@then(parsers.parse('exactly one "{detail_type}" event is published for the order with code "{code}"'))
@eventually
def exactly_one_code(world: World, order: Order, detail_type: str, code: str) -> None:
    events = world.distinct(order, detail_type)
    assert len(events) == 1, f"{len(events)} distinct {detail_type} events for {order.order_id}"
    assert events[0].data.get("code") == code, events[0].data


@then(parsers.parse('{count:d} "{detail_type}" events are published for the order'))
@eventually
def n_events(world: World, order: Order, count: int, detail_type: str) -> None:
    assert len(world.distinct(order, detail_type)) == count


@then(parsers.parse('no "{detail_type}" event is published for the order'))
def none_of_type(world: World, order: Order, detail_type: str) -> None:
    assert world.published(order, detail_type) == []


@then("no event is published for the order")
def nothing_published(world: World, order: Order) -> None:
    assert [e.detail_type for e in world.published(order)] == []


@then("no event is published for any of the orders")
def nothing_published_for_any(world: World, orders: list[Order]) -> None:
    assert orders
    assert [e.detail_type for o in orders for e in world.published(o)] == []


@then("the published payment names the order, the customer, the amount and a transaction id")
@eventually
def published_payment_fields(world: World, order: Order) -> None:
    (event,) = world.distinct(order, "payment.succeeded")
    data = event.data
    assert data["orderId"] == order.order_id
    assert data["customerId"] == order.customer_id
    assert _amount(event) == (order.minor_units, order.currency)
    assert data["status"] == "SUCCEEDED"
    assert data.get("transactionId")
    assert data["paymentId"] == world.payments(order)[0]["paymentId"]


@then("every event published for the order conforms to its schema")
@eventually
def conforms(world: World, order: Order) -> None:
    events = world.published(order)
    assert events, "nothing was published for the order"
    bad = {e.detail_type: e.violations for e in events if e.violations}
    assert not bad, bad


@then("every event published for the order names its trigger's eventId as causationId")
@eventually
def causation(world: World, order: Order) -> None:
    sent = order.sent_by_id()
    payment_types = {"order.ready_for_payment", "inventory.reserved"}
    for event in world.published(order):
        trigger = sent.get(event.metadata.get("causationId"))
        assert trigger is not None, f"{event.detail_type} names an unknown causationId"
        assert (trigger["detail-type"] in payment_types) == event.detail_type.startswith("payment."), (
            f"{event.detail_type} caused by {trigger['detail-type']}"
        )


@then("every event published for the order keeps its trigger's correlationId")
@eventually
def correlation(world: World, order: Order) -> None:
    sent = order.sent_by_id()
    for event in world.published(order):
        trigger = sent[event.metadata["causationId"]]
        assert event.metadata.get("correlationId") == trigger["detail"]["metadata"]["correlationId"]


@then(parsers.parse('the published events for the order are "{names}"'))
@eventually
def published_sequence(world: World, order: Order, names: str) -> None:
    seen: list[str] = []
    ids: set[str] = set()
    for event in world.published(order):
        if event.metadata.get("eventId") not in ids:
            ids.add(event.metadata.get("eventId"))
            seen.append(event.detail_type)
    assert seen == [n.strip() for n in names.split(",")]


@then("no event published so far violated its schema")
def none_violated(world: World) -> None:
    world.audit.poll()
    assert world.audit.events, "nothing was published in this session yet"
    bad = [(e.detail_type, e.violations) for e in world.audit.events if e.violations]
    assert not bad, bad


# ---- outcomes: tables -----------------------------------------------------------------------------------------


def _one(items: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(items) == 1, f"{len(items)} {what} records for the order"
    return items[0]


@then(parsers.parse('the order\'s payment is recorded as "{status}" for {minor:d} minor units of "{currency}"'))
@eventually
def payment_recorded(world: World, order: Order, status: str, minor: int, currency: str) -> None:
    item = _one(world.payments(order), "payment")
    assert (item["status"], item.get("amount"), item.get("currency")) == (status, minor, currency), item


@then(parsers.parse('the order\'s payment is recorded as "{status}" with code "{code}"'))
@eventually
def payment_recorded_code(world: World, order: Order, status: str, code: str) -> None:
    item = _one(world.payments(order), "payment")
    assert (item["status"], item.get("failureCode")) == (status, code)


@then(parsers.parse('the order\'s refund is recorded as "{status}" for {minor:d} minor units of "{currency}"'))
@eventually
def refund_recorded(world: World, order: Order, status: str, minor: int, currency: str) -> None:
    item = _one(world.refunds(order), "refund")
    assert (item["status"], item.get("amount"), item.get("currency")) == (status, minor, currency), item


@then(parsers.parse("the order's payment shows {minor:d} minor units refunded"))
@eventually
def payment_refunded(world: World, order: Order, minor: int) -> None:
    item = _one(world.payments(order), "payment")
    assert item.get("refundedAmount", item.get("refundedMinorUnits")) == minor, item


@then("no payment is recorded for the order")
def no_payment(world: World, order: Order) -> None:
    assert world.payments(order) == []


@then("no payment is recorded for any of the orders")
def no_payments(world: World, orders: list[Order]) -> None:
    assert orders
    assert {o.order_id: world.payments(o) for o in orders} == {o.order_id: [] for o in orders}


@then("no refund is recorded for the order")
def no_refund(world: World, order: Order) -> None:
    assert world.refunds(order) == []


# ---- outcomes: money and deliveries ---------------------------------------------------------------------------


@then("the order is charged exactly once")
@eventually
def charged_once(world: World, order: Order) -> None:
    problems = charged_once_problems(world, order)
    assert not problems, problems


@then("the gateway charged the order exactly once")
def gateway_charged_once(world: World, order: Order) -> None:
    ledger = world.ledger(order)
    if ledger is not None:
        assert ledger[0] == [(order.minor_units, order.currency)], f"charges at the gateway: {ledger[0]}"


@then("the gateway did not charge the order")
def gateway_no_charge(world: World, order: Order) -> None:
    ledger = world.ledger(order)
    if ledger is not None:
        assert ledger[0] == []


@then("the gateway received no request for the order")
def gateway_no_request(world: World, order: Order) -> None:
    """Counted at the local Stripe's fault proxy: a blocked order never reaches the gateway."""
    assert world.gateway is not None, "needs the local Stripe's fault proxy"
    assert world.gateway.faults.requests_for(order.order_id) == []


@then(parsers.parse('the order\'s refund names the reason "{reason}"'))
@eventually
def refund_reason(world: World, order: Order, reason: str) -> None:
    events = world.distinct(order, "refund.succeeded")
    assert [e.data.get("refundReason") for e in events] == [reason]


@then("the gateway did not charge any of the orders")
def gateway_charged_none(world: World, orders: list[Order]) -> None:
    assert orders and world.gateway is not None
    assert {o.order_id: world.ledger(o) for o in orders} == {o.order_id: ([], []) for o in orders}


@then(parsers.parse("the gateway refunded {minor:d} minor units for the order"))
def gateway_refunded(world: World, order: Order, minor: int) -> None:
    ledger = world.ledger(order)
    if ledger is not None:
        assert sum(amount for amount, _ in ledger[1]) == minor


@then("the gateway refunded nothing for the order")
def gateway_refunded_nothing(world: World, order: Order) -> None:
    ledger = world.ledger(order)
    if ledger is not None:
        assert ledger[1] == []


@then("every trigger for the order was delivered once")
def delivered_once(world: World, order: Order) -> None:
    if world.service is not None:
        assert [t.deliveries for t in world.service.tracks_for(order.order_id)] == [1] * order.expected_messages
    else:
        assert world.order_deliveries(order) == Counter({1: order.expected_messages})


@then(parsers.parse("the trigger was delivered {times:d} times"))
def delivered_times(world: World, order: Order, times: int) -> None:
    if world.service is None:  # the emulator's logs; success is the outcome steps' and the DLQ step's to show
        assert world.order_deliveries(order) == Counter({times: 1})
        return
    tracks = world.service.tracks_for(order.order_id)
    assert [(t.deliveries, t.state) for t in tracks] == [(times, "succeeded")]


@then("the trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries")
def dead_lettered(world: World, order: Order) -> None:
    _dead_lettered(world, order)


@then("each trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries")
def each_dead_lettered(world: World, orders: list[Order]) -> None:
    assert orders
    for order in orders:
        _dead_lettered(world, order)


def _dead_lettered(world: World, order: Order) -> None:
    if world.service is None:
        _dead_lettered_in_emulator(world, order)
        return
    (track,) = [t for t in world.service.tracks_for(order.order_id) if t.state != "succeeded"]
    mapping = next(m for m in world.stack.mappings if m.queue.arn == track.queue_arn)
    assert track.state == "dead-lettered"
    assert track.deliveries == mapping.queue.max_receive_count
    # moto moves the message on the next receive; the background service polls continuously.
    found = wait_until(lambda: world.dead_letters(order, remove=True), 30, "the trigger in the DLQ", 0.2)
    assert len(found) == 1


def _dead_lettered_in_emulator(world: World, order: Order) -> None:
    """The message is in a DLQ, and the function's logs show it was delivered maxReceiveCount times first."""
    (message,) = wait_until(lambda: world.dead_letter_messages(order), 30, "the trigger in the DLQ", 0.5)
    (mapping,) = [
        m for m in world.stack.mappings if message["Attributes"].get("DeadLetterQueueSourceArn") == m.queue.arn
    ]
    message_id = message["MessageId"]
    assert world.deliveries(lambda line: line["message_id"] == message_id) == {
        message_id: mapping.queue.max_receive_count
    }
    assert len(world.dead_letters(order, remove=True)) == 1


@then("nothing for the order is in a dead-letter queue")
def no_dead_letters(world: World, order: Order) -> None:
    assert world.dead_letters(order) == []


# ---- outcomes that arrive later (3-D Secure, webhooks, pending refunds, reconciliation) ------------------------


def _intent(world: World, order: Order) -> str:
    (item,) = world.payments(order)
    return str(item["intentId"])


def _until_payment_leaves(world: World, order: Order, status: str) -> None:
    """Stripe's webhook arrives about a second after the fact and is handled by the webhook function: wait for it."""
    wait_until(
        lambda: [p for p in world.payments(order) if p.get("status") != status],
        world.settle_timeout,
        f"the order's payment to leave {status}",
        0.2,
    )
    world.audit.poll()


@given("the customer completes authentication")
@when("the customer completes authentication")
def customer_authenticates(world: World, order: Order) -> None:
    world.gateway.stripe.authenticate(_intent(world, order), success=True)
    _until_payment_leaves(world, order, "REQUIRES_ACTION")


@when("the merchant closes the order's Radar review as refunded as fraud")
def review_closed_as_fraud(world: World, order: Order) -> None:
    _until_payment_leaves(world, order, "PENDING")  # a review closes on a captured charge
    world.gateway.stripe.close_review_as_fraud(_intent(world, order))


@when("the customer fails authentication")
def customer_fails_authentication(world: World, order: Order) -> None:
    world.gateway.stripe.authenticate(_intent(world, order), success=False)
    _until_payment_leaves(world, order, "REQUIRES_ACTION")


@then("the action required names the order's payment intent and carries no secret")
def action_required_fields(world: World, order: Order) -> None:
    (event,) = world.distinct(order, "payment.action_required")
    assert event.data["intentId"] == _intent(world, order)
    assert event.data["action"] == "three_d_secure" and event.data["expiresAt"]
    assert "secret" not in json.dumps(event.event).lower()


@then("the order's payment intent is cancelled at the gateway")
def intent_cancelled(world: World, order: Order) -> None:
    intents = world.gateway.stripe.intents(order.order_id)
    assert intents and {i.status for i in intents} == {"canceled"}, [i.status for i in intents]


@when("reconciliation runs")
def reconciliation_runs(world: World) -> None:
    world.reconcile()


@when("the authentication deadline passes and reconciliation runs")
def deadline_passes(world: World, order: Order) -> None:
    (item,) = world.payments(order)
    expires = parse(str(item["actionExpiresAt"]))
    wait_until(lambda: datetime.now(UTC) > expires, 120, "the authentication deadline", 0.5)
    world.reconcile()
    world.audit.poll()


@given("the gateway fails every charge attempt for the order")
def gateway_down_for_order(world: World, order: Order) -> None:
    world.gateway.faults.fail_next("POST", CONFIRM, times=1000, order_id=order.order_id)


@when("the gateway is back and the payment is older than the reconciliation threshold")
def gateway_back_and_old_enough(world: World, order: Order) -> None:
    world.gateway.faults.clear()
    threshold = world.reconcile_pending_after()
    (item,) = world.payments(order)
    opened = parse(str(item["createdAt"]))
    wait_until(
        lambda: (datetime.now(UTC) - opened).total_seconds() > threshold + 1,
        threshold + 30,
        f"the payment older than {threshold} s",
        0.5,
    )


@then("no payment is left PENDING beyond the reconciliation threshold")
def nothing_stuck(world: World) -> None:
    threshold = world.reconcile_pending_after()
    assert world.unfinished_older_than("PENDING", threshold) == []


@when(parsers.parse('the gateway settles the order\'s refund as "{status}"'))
def refund_settles(world: World, order: Order, status: str) -> None:
    (refund,) = world.refunds(order)
    world.gateway.stripe.settle_refund(str(refund["transactionId"]), status)
    # Stripe's webhook settles it, and a failed refund is written before its event goes out (refund_flow). With the
    # local Lambda service the Then steps look once (its trigger steps wait for queues, not webhooks): wait for both.
    wait_until(
        lambda: [r for r in world.refunds(order) if r.get("status") != "PENDING"],
        world.settle_timeout,
        "the refund to settle",
        0.2,
    )
    world.wait_published(order, f"refund.{status}", world.settle_timeout)
