"""Put the sample events from events/ on the bus (``make seed``), printing each entry's result.

    python -m tools.devstack seed [FILE_OR_DIR ...] [--fresh] [--bus NAME]

Each file holds one EventBridge event (``source``, ``detail-type``, ``detail``) or a list of them. The bus is
``--bus``, else ``EVENT_BUS_NAME``, else the one the deployed functions publish to (read from the emulator).
The samples carry fixed order and event ids, so seeding twice shows idempotency (nothing is charged twice);
``--fresh`` gives every order and event new ids, so the same samples run through the service again.

Exit status: 0 when every entry was accepted, 1 when the emulator is down, the stack is missing or an entry was
rejected. Payment-method tokens are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.devstack.aws import client, endpoint_from_env, region_from_env, stand_in_enabled, wait_until
from tools.devstack.events import put_entry
from tools.devstack.output import format_money
from tools.devstack.stack import discover_stack
from tools.devstack.stripe_local import prepare_trigger, stripe_base_of

PAYMENT_TRIGGERS = ("inventory.reserved", "order.ready_for_payment")


def load_events(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    out = []
    for file in files:
        loaded = json.loads(file.read_text())
        for event in loaded if isinstance(loaded, list) else [loaded]:
            out.append((file, event))
    return out


def refresh_ids(events: list[tuple[Path, dict[str, Any]]]) -> None:
    """New order ids (consistently per original id) and new event ids, so the samples run again."""
    orders: dict[str, str] = {}
    suffix = uuid.uuid4().hex[:6]
    for _, event in events:
        detail = event.get("detail") or {}
        data, metadata = detail.get("data") or {}, detail.get("metadata") or {}
        if "orderId" in data:
            data["orderId"] = orders.setdefault(data["orderId"], f"{data['orderId']}-{suffix}"[:64])
        if "eventId" in metadata:
            metadata["eventId"] = str(uuid.uuid4())
        if "requestId" in metadata:
            metadata["requestId"] = f"{metadata['requestId']}-{suffix}"[:128]


def describe(event: dict[str, Any]) -> str:
    data = (event.get("detail") or {}).get("data") or {}
    amount = data.get("amount") or {}
    money = format_money(int(amount["minorUnits"]), str(amount["currency"])) if "minorUnits" in amount else ""
    return f"{event.get('detail-type', '?'):<29} {data.get('orderId', '?'):<16} {money:>14}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("events")])
    parser.add_argument("--fresh", action="store_true", help="new order and event ids for every sample")
    parser.add_argument("--bus", default=os.environ.get("EVENT_BUS_NAME"))
    parser.add_argument("--no-wait", action="store_true", help="do not wait for payments before refund triggers")


def execute(args: argparse.Namespace) -> int:
    endpoint, region = endpoint_from_env(), region_from_env()

    events = load_events(args.paths)
    if not events:
        print(f"no events found in {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 1
    if args.fresh:
        refresh_ids(events)
    try:
        bus = args.bus or discover_stack(endpoint, region).event_bus
    except (BotoCoreError, ClientError) as exc:
        print(
            f"error: cannot reach the emulator at {endpoint} ({type(exc).__name__}).\n  Start the stack with make dev.",
            file=sys.stderr,
        )
        return 1
    if not bus:
        print(
            f"error: no deployed payment functions found at {endpoint}, so no bus to seed: make dev",
            file=sys.stderr,
        )
        return 1
    events_client = client("events", endpoint, region)
    stripe_base = stripe_base_of(discover_stack(endpoint, region).functions)
    if stripe_base is not None:
        # The functions charge through the local Stripe: give the samples' tokens test cards there first.
        for _, event in events:
            prepare_trigger(event, stripe_base)
    print(f"seeding {len(events)} events onto bus {bus!r} at {endpoint}")
    failed = 0
    # Payment triggers first, refund triggers after the payments were processed: the samples tell a story
    # (pay, then cancel), and a cancellation that arrives first would, correctly, block the payment instead.
    payments = [(f, e) for f, e in events if e.get("detail-type") in PAYMENT_TRIGGERS]
    others = [(f, e) for f, e in events if e.get("detail-type") not in PAYMENT_TRIGGERS]
    for phase, batch in enumerate((payments, others)):
        if phase and batch and payments and not args.no_wait:
            wait_drained(endpoint, region)
        failed += send(events_client, bus, batch)
    print(f"{len(events) - failed} accepted, {failed} rejected")
    return 1 if failed else 0


def wait_drained(endpoint: str, region: str, timeout: float = 30.0) -> None:
    """Wait (with a deadline) until the function queues are empty, i.e. the payments were processed.

    Where the emulator runs the functions (MiniStack, LocalStack), a failed delivery comes back only after the
    queue's visibility timeout (18 s with fast-redelivery.tfvars), so the deadline covers the retries too."""
    stack = discover_stack(endpoint, region)
    sqs = client("sqs", endpoint, region)
    if not stand_in_enabled():
        timeout += max((m.queue.max_receive_count or 1) * m.queue.visibility_timeout for m in stack.mappings)

    def drained() -> bool:
        for m in stack.mappings:
            attrs = sqs.get_queue_attributes(QueueUrl=m.queue.url, AttributeNames=["All"])["Attributes"]
            if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]):
                return False
        return True

    print("  ... waiting for the payment triggers to be processed before sending refund triggers")
    try:
        wait_until(drained, timeout, "the function queues to drain", 0.3)
    except TimeoutError:
        print(f"  ... still not processed after {timeout:.0f}s (make doctor tells why); continuing")


def send(events_client: Any, bus: str, batch: list[tuple[Path, dict[str, Any]]]) -> int:
    failed = 0
    for file, event in batch:
        try:
            result = events_client.put_events(Entries=[put_entry(event, bus)])["Entries"][0]
        except (BotoCoreError, ClientError) as exc:
            result = {"ErrorCode": type(exc).__name__, "ErrorMessage": str(exc)}
        if "ErrorCode" in result:
            failed += 1
            status = f"REJECTED {result['ErrorCode']}: {result.get('ErrorMessage', '')}"
        else:
            status = f"accepted EventId={result['EventId']}"
        print(f"  {file.name:<48} {describe(event)}  {status}")
    return failed
