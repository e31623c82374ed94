#!/usr/bin/env python3
"""The handler's own CPU per event and its memory over many events, with the AWS calls stubbed.

Run by ``run_all.py`` on the Lambda runtime's Python (3.12) with the unpacked zip first on ``sys.path``, as Lambda
runs it; it can also run from a checkout (``--pkg lambda_src``). The DynamoDB and EventBridge clients are
replaced by stubs that answer at once what the real calls answer on the new-payment path (the claim's PutItem,
the intent's UpdateItem, PutEvents, the final UpdateItem; so no botocore work and no I/O is counted: that is the
calls' cost, measured apart in the warm rows), and every payment event is a new order. Prints one JSON object.

- CPU: ``time.process_time`` over N events, with the simulated gateway (the in-process stand-in for a real
  gateway's HTTP call), schema validation and Powertools' log and metric writes inside.
- Memory: VmRSS after a warm-up, then after 20,000 more events and after 20,000 more again, with the gateway
  replaced by a stateless stub:
  the simulated gateway keeps a ledger entry per order by design (its tests count charges), which a real
  gateway adapter does not; its own growth over the same events is reported next to it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench_events import Ctx, lambda_environment, payment_event, sqs_batch, trace_header


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


class _StubDynamoDB:
    """Answers the new-payment path's calls as DynamoDB does when each condition holds: the claim's PutItem, the
    UpdateItem that stores the gateway intent (``ReturnValues=ALL_NEW``: the record's new image, which the
    repository parses), and the final UpdateItem (no image asked back).

    It keeps the item of each payment in flight, so the new image is the claimed item with the update's ``SET``s
    applied, and forgets it at the final write (a finished payment is never read again on this path), so the stub
    adds nothing to the memory rows. An update it cannot answer faithfully fails loudly rather than guess.
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}

    def put_item(self, *, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._items[Item["paymentId"]["S"]] = dict(Item)
        return {}

    def update_item(
        self,
        *,
        Key: dict[str, Any],
        UpdateExpression: str,
        ExpressionAttributeValues: dict[str, Any],
        ReturnValues: str = "NONE",
        **_: Any,
    ) -> dict[str, Any]:
        key = Key["paymentId"]["S"]
        if ReturnValues == "NONE":
            self._items.pop(key, None)
            return {}
        if ReturnValues != "ALL_NEW" or not UpdateExpression.startswith("SET ") or " REMOVE " in UpdateExpression:
            raise NotImplementedError(f"stub cannot answer {UpdateExpression!r} with ReturnValues={ReturnValues}")
        item = self._items[key]
        for assignment in UpdateExpression[len("SET ") :].split(","):
            name, _, value = (part.strip() for part in assignment.partition("="))
            if not value.startswith(":") or not name.isidentifier():
                raise NotImplementedError(f"stub cannot apply {assignment.strip()!r}")
            item[name] = ExpressionAttributeValues[value]
        return {"Attributes": dict(item)}


class _StubEvents:
    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in kwargs["Entries"]]}


def xray_cost_per_aws_call(calls: int = 2000) -> float:
    """CPU µs the X-Ray SDK adds to one AWS call of an unsampled invocation, which the stubbed clients above skip.

    The Tracer patches every botocore client; a real DynamoDB client answered by botocore's Stubber (no I/O)
    makes the same PutItem with the SDK on, then with it switched off (``global_sdk_config``), interleaved.
    """
    import aws_xray_sdk
    import boto3
    from botocore.stub import Stubber

    client = boto3.session.Session().client("dynamodb", region_name="us-east-2")  # patched like the handler's
    item = {"paymentId": {"S": "p-1"}, "orderId": {"S": "o-1"}}
    spent = {True: 0.0, False: 0.0}
    with Stubber(client) as stub:
        for i in range(calls):
            enabled = i % 2 == 0
            aws_xray_sdk.global_sdk_config.set_sdk_enabled(enabled)
            stub.add_response("put_item", {}, {"TableName": "t", "Item": item})
            start = time.process_time()
            client.put_item(TableName="t", Item=item)
            spent[enabled] += time.process_time() - start
    aws_xray_sdk.global_sdk_config.set_sdk_enabled(True)
    return (spent[True] - spent[False]) / (calls / 2) * 1e6


def measure(pkg: Path, cpu_events: int, memory_events: int) -> dict[str, Any]:
    # As Lambda runs the function, tracing on; an invocation unsampled, as X-Ray's default rule (the first
    # request each second, then 5 %) leaves almost every one at this rate.
    os.environ.update(lambda_environment(str(pkg), sampled=False))
    os.environ.update(
        AWS_REGION="us-east-2",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        PAYMENT_TABLE_NAME="bench-payments",
        REFUND_TABLE_NAME="bench-refunds",
        EVENT_BUS_NAME="default",
        GATEWAY_MODE="simulated",
        LOG_LEVEL="INFO",
    )
    from novamart_payments import clients, envelope, publisher
    from novamart_payments.gateway import GatewayResult, Outcome
    from novamart_payments.handlers import _batch as batch_module
    from novamart_payments.handlers.payment import handler

    dynamodb, events = _StubDynamoDB(), _StubEvents()  # one of each, as clients caches them per container
    clients.dynamodb = lambda: dynamodb  # type: ignore[assignment]
    clients.events = lambda: events  # type: ignore[assignment]
    svc = batch_module.service()
    validation = [0.0]
    gateway = [0.0]

    def timed(fn: Any, into: list[float]) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                into[0] += time.process_time() - start

        return wrapper

    cpu = [0.0]

    def run(n: int, prefix: str, *, fresh_headers: bool = False) -> list[float]:
        """Wall time per event; the handler's CPU time adds up in ``cpu``. The events, their contexts and the
        trace headers the runtime sets are made outside the measured span, so the bench's own work is not counted.

        ``fresh_headers``: a new trace header per invocation, as the runtime sets it. Not in the memory runs:
        glibc's ``setenv`` keeps every value it replaces (3 MB over 20,000 here), the runtime's cost, not the
        handler's; nothing in the handler keeps a header, which the CPU run's fresh ones exercise.
        """
        events = ((sqs_batch(payment_event(f"{prefix}-{i}")), Ctx(), trace_header(sampled=False)) for i in range(n))
        per_event = []
        for event, context, header in events:
            if fresh_headers:
                os.environ["_X_AMZN_TRACE_ID"] = header
            cpu_start, start = time.process_time(), time.perf_counter()
            result = handler(event, context)
            per_event.append(time.perf_counter() - start)
            cpu[0] += time.process_time() - cpu_start
            assert result["batchItemFailures"] == [], result
        return per_event

    run(500, "warm")  # validators compiled, every code path loaded
    envelope.validate_event = timed(envelope.validate_event, validation)
    publisher.validate_event = timed(publisher.validate_event, validation)
    simulated = svc._gateway._inner  # type: ignore[attr-defined]  # TracedGateway around the simulated one
    simulated.begin_charge = timed(simulated.begin_charge, gateway)
    simulated.complete_charge = timed(simulated.complete_charge, gateway)
    gc.collect()
    cpu[0] = 0.0
    wall = run(cpu_events, "cpu", fresh_headers=True)
    cpu_total = cpu[0]
    validation_total, gateway_total = validation[0], gateway[0]
    ordered = sorted(wall)

    # Memory: a stateless gateway (like a real adapter), then the simulated one for comparison.
    class StubGateway:
        def begin_charge(self, request: Any) -> str:
            return "pi_stub_0123456789"

        def complete_charge(self, handle: str, request: Any) -> GatewayResult:
            return GatewayResult(Outcome.APPROVED, "ch_stub_0123456789", processed_at="2026-11-26T10:00:01.000Z")

    def rss_growth(n: int, prefix: str) -> tuple[int, int]:
        """(VmRSS KiB after a 2,000-event warm-up, its growth over ``n`` more events)."""
        run(2_000, f"{prefix}-warm")
        gc.collect()
        before = _rss_kib()
        run(n, prefix)
        gc.collect()
        return before, _rss_kib() - before

    svc._gateway._inner = StubGateway()  # type: ignore[attr-defined]
    rss_before, rss_growth_kib = rss_growth(memory_events, "mem")
    # The same number of events again: growth that settles (allocator arenas, caches) is not a leak.
    gc.collect()
    second_start = _rss_kib()
    run(memory_events, "mem2")
    gc.collect()
    second_growth_kib = _rss_kib() - second_start
    svc._gateway._inner = simulated  # type: ignore[attr-defined]
    _, simulated_growth_kib = rss_growth(memory_events, "sim")
    xray_us = xray_cost_per_aws_call()
    return {
        "xray_us_per_aws_call": xray_us,
        "python": sys.version.split()[0],
        "cpu_events": cpu_events,
        "cpu_us_per_event": cpu_total / cpu_events * 1e6,
        "validation_us_per_event": validation_total / cpu_events * 1e6,
        "gateway_us_per_event": gateway_total / cpu_events * 1e6,
        "wall_p50_us": statistics.median(wall) * 1e6,
        "wall_p95_us": ordered[int(len(ordered) * 0.95)] * 1e6,
        "memory_events": memory_events,
        "rss_before_kib": rss_before,
        "rss_growth_kib": rss_growth_kib,
        "rss_growth_next_kib": second_growth_kib,
        "simulated_gateway_rss_growth_kib": simulated_growth_kib,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pkg", type=Path, required=True, help="unpacked lambda.zip (or lambda_src)")
    parser.add_argument("--cpu-events", type=int, default=3000)
    parser.add_argument("--memory-events", type=int, default=20_000)
    args = parser.parse_args()
    sys.path.insert(0, str(args.pkg.resolve()))
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the handler's log lines and metrics are written (and paid for), not kept
    try:
        result = measure(args.pkg.resolve(), args.cpu_events, args.memory_events)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
