"""The bench's baseline makes the handler's own calls: same operations, order, attributes and expressions.

Every warm, cold and throughput ratio divides by tests/bench/raw_calls.py; if the handler's requests change
(another attribute, another expression) and the baseline does not follow, the ratios silently drift. This
captures the requests of one real payment and of one baseline payment and compares their shapes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
