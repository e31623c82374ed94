"""The bench's baseline makes the handler's own calls: same operations, order, attributes and expressions.

Every warm, cold and throughput ratio divides by tests/bench/raw_calls.py; if the handler's requests change
(another attribute, another expression) and the baseline does not follow, the ratios silently drift. This
captures the requests of one real payment and of one baseline payment and compares their shapes.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import boto3
import pytest
from moto.server import ThreadedMotoServer

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import raw_calls  # noqa: E402
from bench_events import Ctx, payment_event, sqs_batch  # noqa: E402

from tests.support.service_aws import REGION, create_tables, handler_environment  # noqa: E402

PAYMENTS, REFUNDS = "rawcalls-payments", "rawcalls-refunds"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _shape(operation: str, params: dict[str, Any]) -> Any:
    """What a request looks like without its values: names, expressions, nesting."""
    if operation == "PutEvents":
        entry = params["Entries"][0]
        detail = json.loads(entry["Detail"])
        return {
            "entry": sorted(entry),
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "detail": {k: sorted(v) for k, v in detail.items()},
            "amount": sorted(detail["data"]["amount"]),
        }
    shape = {k: v for k, v in params.items() if k not in ("TableName", "Item", "Key", "ExpressionAttributeValues")}
    for key in ("Item", "Key", "ExpressionAttributeValues"):
        if key in params:
            shape[key] = {name: sorted(value) for name, value in params[key].items()}
    return shape


def _capture(clients: list[Any]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, _shape(model.name, params)))

    for c in clients:
        c.meta.events.register("provide-client-params", hook)
    return seen


def test_baseline_makes_the_handlers_calls(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in handler_environment(endpoint, PAYMENTS, REFUNDS).items():
        monkeypatch.setenv(name, value)
    from novamart_payments import clients, config
    from novamart_payments.handlers import _batch
    from novamart_payments.handlers.payment import handler

    config.get_config.cache_clear()
    clients.reset()
    _batch.service.cache_clear()
    try:
        create_tables(boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION), PAYMENTS, REFUNDS)
        handler_calls = _capture([clients.dynamodb(), clients.events()])
        result = handler(sqs_batch(payment_event("ord-rawcalls-handler")), Ctx())
        assert result["batchItemFailures"] == []
        ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        events = boto3.client("events", endpoint_url=endpoint, region_name=REGION)
        baseline_calls = _capture([ddb, events])
        raw_calls.new_payment(ddb, events, PAYMENTS, "ord-rawcalls-baseline")
    finally:
        config.get_config.cache_clear()
        clients.reset()
        _batch.service.cache_clear()
    assert [op for op, _ in handler_calls] == ["PutItem", "UpdateItem", "PutEvents", "UpdateItem"]
    assert baseline_calls == handler_calls


class _Recorder(BaseHTTPRequestHandler):
    """A pass-through in front of the local Stripe that notes each request's shape: method, path (ids masked),
    the form's field names and the headers that change what Stripe does."""

    upstream: ClassVar[str] = ""
    seen: ClassVar[list[tuple[str, str, list[str], list[str]]]] = []

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        self._forward(self.rfile.read(int(self.headers.get("content-length", "0"))))

    def _forward(self, body: bytes | None) -> None:
        form = sorted(parse_qs((body or b"").decode(), keep_blank_values=True))
        headers = sorted(h for h in ("Idempotency-Key", "Stripe-Version", "Authorization") if self.headers.get(h))
        self.seen.append((self.command, re.sub(r"/pi_\w+", "/{id}", self.path), form, headers))
        request = urllib.request.Request(self.upstream + self.path, data=body, method=self.command)
        for name in ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as err:
            status, payload = err.code, err.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def local_stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe as the bench runs it, behind the recorder; yields the recorder's address."""
    from tools.devstack.stripe_local import start_process

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = start_process("127.0.0.1", port, tmp_path_factory.mktemp("stripe") / "localstripe.log")
    _Recorder.upstream = f"http://127.0.0.1:{port}"
    recorder = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{recorder.server_address[1]}"
    finally:
        recorder.shutdown()
        process.terminate()
        process.wait(timeout=10)


def test_stripe_baseline_makes_the_handlers_calls(
    endpoint: str, local_stripe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe mode (the cold row's production gateway): the same AWS calls, in the same order, the key read and
    the budget's counters included, and the same two requests to Stripe with the same fields and headers."""
    from tools.devstack.stripe_local import TEST_SECRET_KEY

    secret, budget = "rawcalls/stripe-key", "rawcalls-budget"
    env = handler_environment(endpoint, PAYMENTS + "-s", REFUNDS + "-s")
    env.update(
        GATEWAY_MODE="stripe",
        STRIPE_SECRET_ID=secret,
        STRIPE_API_BASE=local_stripe,
        STRIPE_OFF_SESSION="false",
        GATEWAY_BUDGET_TABLE_NAME=budget,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    create_tables(ddb, PAYMENTS + "-s", REFUNDS + "-s")
    ddb.create_table(
        TableName=budget,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    )
    boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION).create_secret(
        Name=secret, SecretString=TEST_SECRET_KEY
    )
    from novamart_payments import clients, config
    from novamart_payments.gateway import stripe_secrets
    from novamart_payments.handlers import _batch
    from novamart_payments.handlers.payment import handler

    def reset() -> None:
        config.get_config.cache_clear()
        clients.reset()
        _batch.service.cache_clear()
        stripe_secrets._secrets_provider.cache_clear()

    reset()
    try:
        handler_calls: list[tuple[str, Any]] = []
        _capture_session(clients.session(), handler_calls)
        _Recorder.seen.clear()
        result = handler(sqs_batch(payment_event("ord-rawcalls-stripe-handler")), Ctx())
        assert result["batchItemFailures"] == []
        handler_requests = list(_Recorder.seen)
        session = boto3.session.Session(region_name=REGION)
        baseline_calls: list[tuple[str, Any]] = []
        _capture_session(session, baseline_calls)
        _Recorder.seen.clear()
        intent = raw_calls.new_stripe_payment(
            session.client("dynamodb"),
            session.client("events"),
            session.client("secretsmanager"),
            PAYMENTS + "-s",
            budget,
            secret,
            local_stripe,
            "ord-rawcalls-stripe-baseline",
        )
        baseline_requests = list(_Recorder.seen)
    finally:
        reset()
    assert intent.startswith("pi_")
    assert [op for op, _ in handler_calls] == [
        "PutItem",
        "GetSecretValue",
        "UpdateItem",
        "UpdateItem",
        "UpdateItem",
        "PutEvents",
        "UpdateItem",
    ]
    assert baseline_calls == handler_calls
    assert [(method, path) for method, path, _, _ in handler_requests] == [
        ("POST", "/v1/payment_intents"),
        ("POST", "/v1/payment_intents/{id}/confirm"),
    ]
    assert baseline_requests == handler_requests


def _capture_session(session: Any, seen: list[tuple[str, Any]]) -> None:
    """Note the shape of every request of every client the session builds from now on."""

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, _shape(model.name, params)))

    session.events.register("provide-client-params", hook)
