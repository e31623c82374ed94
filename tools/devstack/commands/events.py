"""What the service published, as a table (``make events``; ``make events FOLLOW=1`` keeps printing).

    python -m tools.devstack events [--run-dir .run] [--limit 20] [--order ORDER_ID] [--follow]

The stack's audit rule copies every event the service publishes to the audit queue. This takes what is on that
queue into ``<run-dir>/published-events.jsonl`` (where the local Lambda service already moves the overflow of a
queue nobody reads) and prints the newest ``--limit`` events from there: when, the detail-type, the order, the
amount, the outcome code and the event id. ``--follow`` then prints each new event as it is published until
Ctrl-C. ``make demo`` reads the audit queue itself: while it runs, do not follow here. Published events carry
no payment-method token (their schemas forbid it), so they may be printed and written out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from tools.devstack.audit import AuditTapBound
from tools.devstack.aws import endpoint_from_env, region_from_env
from tools.devstack.commands.dev import AUDIT_SINK
from tools.devstack.output import format_money, format_table
from tools.devstack.stack import discover_stack

COLUMNS = ["occurredAt", "detail-type", "orderId", "amount", "code", "eventId"]


def row(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail") or {}
    data, metadata = detail.get("data") or {}, detail.get("metadata") or {}
    amount = data.get("amount") or {}
    return {
        "occurredAt": metadata.get("occurredAt"),
        "detail-type": event.get("detail-type"),
        "orderId": data.get("orderId"),
        "amount": format_money(int(amount["minorUnits"]), str(amount["currency"])) if "minorUnits" in amount else None,
        "code": data.get("code"),
        "eventId": str(metadata.get("eventId", "-"))[:8],
    }


def read_sink(sink: Path, start: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """The events in the sink from byte ``start`` (None: from the beginning, the rotated ``.1`` file first), and
    the offset to continue from. A line still being written waits for the next call."""
    events: list[dict[str, Any]] = []
    rotated = sink.with_name(sink.name + ".1")
    if start is None and rotated.is_file():
        events += _parse(rotated.read_bytes())
    start = start or 0
    if not sink.is_file():
        return events, 0
    if sink.stat().st_size < start:  # rotated meanwhile: the new file is all new
        start = 0
    with sink.open("rb") as fh:
        fh.seek(start)
        data = fh.read()
    data = data[: data.rfind(b"\n") + 1]
    return events + _parse(data), start + len(data)


def _parse(data: bytes) -> list[dict[str, Any]]:
    events = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--limit", type=int, default=20, help="show the newest N events (default 20)")
    parser.add_argument("--order", help="only this order's events")
    parser.add_argument("--follow", action="store_true", help="keep printing new events until Ctrl-C")


def execute(args: argparse.Namespace) -> int:
    endpoint, region = endpoint_from_env(), region_from_env()
    stack = discover_stack(endpoint, region)
    if not stack.audit_queue_url:
        print(f"error: no audit queue at {endpoint} (is the stack deployed?): start it with make dev", file=sys.stderr)
        return 1
    sink = args.run_dir / AUDIT_SINK
    tap = AuditTapBound(endpoint, region, stack.audit_queue_url, max_depth=0, sink=sink)
    tap.enforce()
    events, offset = read_sink(sink)
    rows = [row(e) for e in events if args.order in (None, row(e)["orderId"])]
    print(f"Published events ({len(rows)} in {sink}; newest {min(args.limit, len(rows))} shown)")
    print(format_table(rows[-args.limit :], COLUMNS, empty="(none yet: make seed, make pay, make demo)"))
    if not args.follow:
        return 0
    print("following (Ctrl-C to stop)", flush=True)
    while True:
        time.sleep(1.0)
        tap.enforce()
        new, offset = read_sink(sink, offset)
        for event in new:
            r = row(event)
            if args.order in (None, r["orderId"]):
                print("  ".join(str(r[c] if r[c] is not None else "-") for c in COLUMNS), flush=True)
