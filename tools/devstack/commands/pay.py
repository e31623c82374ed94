"""One payment through the bus with one of Stripe's test cards (``make pay CARD=declined``).

    python -m tools.devstack pay [EVENT_FILE] [--card visa] [--order ORDER_ID] [--timeout 60]

Takes a payment trigger (``events/order-placed.json`` unless given), gives it a new order id (or ``--order``)
and a new event id, creates a PaymentMethod for the test card at the local Stripe the deployed functions charge
through, puts the event on the bus as the order service would, and waits (with a deadline) for the payment
record to leave PENDING; then prints it. Cards (``--card``): a name below or any card number Stripe documents
for test mode:

    visa, mastercard            succeed
    declined                    declined when charged (payment.failed card_declined)
    three_d_secure              the bank asks for 3-D Secure (payment.action_required)
    pending_refund              succeeds; its refunds start pending and settle later
    disputed                    succeeds, then the customer disputes it (payment.disputed)
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tools.devstack.aws import client, endpoint_from_env, region_from_env
from tools.devstack.commands.check import PAYMENT_COLUMNS, payment_rows
from tools.devstack.commands.invoke import load_event
from tools.devstack.events import put_events
from tools.devstack.output import format_table
from tools.devstack.stack import discover_stack
from tools.devstack.stripe_local import CARDS, LocalStripe, stripe_base_of
from tools.devstack.tables import records_for_order

PAYMENT_TRIGGERS = ("inventory.reserved", "order.ready_for_payment")
SETTLED = ("SUCCEEDED", "FAILED", "REQUIRES_ACTION")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", type=Path, nargs="?", default=Path("events/order-placed.json"))
    parser.add_argument("--card", default="visa", help=f"{', '.join(CARDS)} or a Stripe test card number")
    parser.add_argument("--order", help="order id (default: a new one)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the outcome")


def execute(args: argparse.Namespace) -> int:
    if args.card not in CARDS and not (args.card.isdigit() and 13 <= len(args.card) <= 19):
        print(f"pay: CARD={args.card}: expected one of {', '.join(CARDS)} or a test card number", file=sys.stderr)
        return 2
    order = args.order or f"ord-pay-{uuid.uuid4().hex[:10]}"
    event = load_event(args.event, order)
    if isinstance(event, str) or event["detail-type"] not in PAYMENT_TRIGGERS:
        print(f"pay: {event if isinstance(event, str) else f'{args.event} is not a payment trigger'}", file=sys.stderr)
        return 2
    endpoint, region = endpoint_from_env(), region_from_env()
    stack = discover_stack(endpoint, region)
    api_base = stripe_base_of(stack.functions)
    if not stack.event_bus or not stack.payment_table or api_base is None:
        print(f"error: no stack charging through a local Stripe at {endpoint}: make dev", file=sys.stderr)
        return 1
    event["detail"]["data"]["paymentMethod"] = {"token": LocalStripe(api_base).payment_method(args.card)}
    put_events(client("events", endpoint, region), stack.event_bus, [event])
    print(f"sent {event['detail-type']} for order {order} with test card {args.card} (local Stripe {api_base})")
    ddb = client("dynamodb", endpoint, region)
    deadline = time.monotonic() + args.timeout
    records: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        records = records_for_order(ddb, stack.payment_table, order)
        if records and all(r.get("status") in SETTLED for r in records):
            break
        time.sleep(0.3)
    print(format_table(payment_rows(records), PAYMENT_COLUMNS, empty="(no payment record yet)"))
    if not records or any(r.get("status") not in SETTLED for r in records):
        print(f"no outcome within {args.timeout:.0f} s: make doctor tells why", file=sys.stderr)
        return 1
    print(f"what it published: make events (or python -m tools.devstack events --order {order})")
    return 0
