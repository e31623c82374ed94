#!/usr/bin/env python3
"""Capture the published events of a real local run as schema examples (``make examples``).

The consumer pages and the AsyncAPI document show examples; they should look exactly like what the service
sends, not like hand-made fixtures. This runs the real handlers (payment and refund Lambda entry points, SQS
batch in, simulated gateway) against an in-process moto server with the tables and an EventBridge rule that
copies everything ``novamart.payments`` publishes to a queue, drives one order through each path, and writes
every event as EventBridge delivered it to ``schemas/examples/<detail-type>/v<MAJOR>/valid/local-run-*.json``.

Inputs are fixed (order ids, event ids, tokens), so a rerun only changes what is volatile by nature: the
envelope's ``id`` and ``time`` and ``detail.metadata.occurredAt``. ``--check`` compares everything else
with the committed files and fails when the service now emits something else (a contract test runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "lambda_src")]

from tests.support.emulator import start_moto  # noqa: E402
from tests.support.handler_calls import Context  # noqa: E402
from tests.support.service_aws import (  # noqa: E402
    create_audit_queue,
    create_tables,
    drain_audit_queue,
    handler_environment,
)
from tools.devstack.sqs_records import sqs_batch  # noqa: E402

EXAMPLES = REPO / "schemas" / "examples"
PREFIX = "local-run-"
_NS = uuid.UUID("0c2d9a51-7d8e-4f0b-a1c3-5e6f7a8b9c0d")
VOLATILE = (("id",), ("time",), ("detail", "metadata", "occurredAt"), ("detail", "data", "expiresAt"))

Step = tuple[str, str, dict[str, Any]]  # (handler, detail-type, data)


def _trigger(flow: str, n: int, detail_type: str, data: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    source = "novamart.orders" if detail_type.startswith("order.") else "novamart.inventory"
    metadata: dict[str, Any] = {
        "eventId": str(uuid.uuid5(_NS, f"{flow}:{n}")),
        "schemaVersion": "1.0",
        "correlationId": f"corr-{data['orderId']}",
        "occurredAt": "2026-11-26T16:40:00.000Z",
    }
    if request_id:
        metadata["requestId"] = request_id
    return {"source": source, "detail-type": detail_type, "detail": {"metadata": metadata, "data": data}}


def _pay(order: str, customer: str, minor: int, currency: str, token: str) -> Step:
    data = {
        "orderId": order,
        "customerId": customer,
        "amount": {"minorUnits": minor, "currency": currency},
        "paymentMethod": {"token": token},
    }
    return ("payment", "order.ready_for_payment", data)


def _refund(order: str, reason: str, amount: tuple[int, str] | None = None, kind: str = "order.cancelled") -> Step:
    data: dict[str, Any] = {"orderId": order, "reason": reason}
    if amount:
        data["amount"] = {"minorUnits": amount[0], "currency": amount[1]}
    return ("refund", kind, data)


# One order per path the consuming teams should see. Names become the example file names.
FLOWS: dict[str, list[Step]] = {
    "paid-then-partly-refunded": [
        _pay("ord-20261126-5501", "cus-40211", 12990, "USD", "pm_card_visa"),
        _refund("ord-20261126-5501", "one item returned", (2500, "USD")),
    ],
    "paid-then-cancelled": [
        _pay("ord-20261126-5502", "cus-40212", 15800, "JPY", "pm_card_mastercard"),
        _refund("ord-20261126-5502", "reservation expired", kind="inventory.reservation_failed"),
    ],
    "card-declined-then-cancelled": [
        _pay("ord-20261126-5503", "cus-40213", 4999, "USD", "pm_card_chargeDeclined"),
        _refund("ord-20261126-5503", "payment failed"),
    ],
    "insufficient-funds": [
        _pay("ord-20261126-5504", "cus-40214", 18250, "EUR", "pm_card_chargeDeclinedInsufficientFunds")
    ],
    "three-d-secure-required": [_pay("ord-20261126-5505", "cus-40215", 7400, "GBP", "pm_card_threeDSecure2Required")],
    "cancelled-before-payment": [
        _refund("ord-20261126-5506", "customer cancelled before payment"),
        _pay("ord-20261126-5506", "cus-40216", 2345, "KWD", "pm_card_visa"),
    ],
    "refund-over-the-remainder": [
        _pay("ord-20261126-5507", "cus-40217", 10000, "USD", "pm_card_visa"),
        _refund("ord-20261126-5507", "goodwill credit", (12000, "USD")),
    ],
}


def run_flows() -> list[tuple[str, dict[str, Any]]]:
    """Drive every flow through the real handlers; returns (example file stem, delivered event) pairs."""
    server, endpoint = start_moto()
    try:
        os.environ.update(handler_environment(endpoint, "examples-payments", "examples-refunds"))
        os.environ["LOG_LEVEL"] = "WARNING"  # the handlers' per-event log lines are not what this prints
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        import boto3
        from novamart_payments.handlers import payment, refund

        kw = {"endpoint_url": endpoint, "region_name": "us-east-2"}
        sqs, events = boto3.client("sqs", **kw), boto3.client("events", **kw)
        create_tables(boto3.client("dynamodb", **kw), "examples-payments", "examples-refunds")
        queue = create_audit_queue(sqs, events, "examples-audit")
        handlers: dict[str, Callable[..., Any]] = {"payment": payment.handler, "refund": refund.handler}
        captured: list[tuple[str, dict[str, Any]]] = []
        for flow, steps in FLOWS.items():
            for n, (which, detail_type, data) in enumerate(steps):
                request_id = f"rq-{data['orderId']}-{n}" if "amount" in data and which == "refund" else None
                trigger = _trigger(flow, n, detail_type, data, request_id)
                result = handlers[which](sqs_batch(trigger, message_id=f"m-{flow}-{n}"), Context())
                if result["batchItemFailures"]:
                    raise RuntimeError(f"{flow} step {n} failed: {result}")
            for event in drain_audit_queue(sqs, queue):
                captured.append((f"{PREFIX}{flow}", event))
        return captured
    finally:
        server.stop()


def target(name: str, event: dict[str, Any]) -> Path:
    major = event["detail"]["metadata"]["schemaVersion"].split(".")[0]
    return EXAMPLES / event["detail-type"] / f"v{major}" / "valid" / f"{name}.json"


def stable(event: dict[str, Any]) -> dict[str, Any]:
    """The event without the fields that differ between two runs by nature."""
    copy = json.loads(json.dumps(event))
    for path in VOLATILE:
        node = copy
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the committed examples are out of date")
    args = parser.parse_args(argv)
    captured = run_flows()
    wanted = {target(name, event): event for name, event in captured}
    assert len(wanted) == len(captured), "one flow published two events of one detail-type: split it"
    existing = set(EXAMPLES.glob(f"*/v*/valid/{PREFIX}*.json"))
    if args.check:
        problems = [f"orphan: {p.relative_to(REPO)}" for p in sorted(existing - set(wanted))]
        for path, event in sorted(wanted.items()):
            if not path.exists():
                problems.append(f"missing: {path.relative_to(REPO)}")
            elif stable(json.loads(path.read_text())) != stable(event):
                problems.append(f"stale:   {path.relative_to(REPO)}")
        if problems:
            print("Examples differ from a local run (run `make examples` and commit):", *problems, sep="\n  ")
            return 1
        print(f"{len(wanted)} local-run examples match what the service emits")
        return 0
    for path in existing - set(wanted):
        path.unlink()
    for path, event in sorted(wanted.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2) + "\n")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
