"""A Stripe outage at the local Stripe (``make stripe-outage N=3``): its next N requests fail, then it recovers.

    python -m tools.devstack outage [--requests 3] [--status 503] [--path REGEX] [--order ORDER_ID] [--clear]

The local Stripe is localstripe behind a fault-injecting proxy (``tools/devstack/stripe_faults.py``); this adds
a rule through the proxy's ``POST /_faults``: the next ``--requests`` POST requests whose path matches
``--path`` (by default every call the functions make on PaymentIntents and refunds; the tools' own test-card
PaymentMethods still work, so ``make pay`` can send a payment into the outage) answer ``--status`` (503;
``0`` drops the connection without an answer) instead of reaching localstripe. ``--order`` limits it to one
order's PaymentIntents. ``--clear`` removes every pending fault. Then send a payment (``make pay``) and watch
the service retry through SQS (``make events``, ``.run/localsvc.log``).
"""

from __future__ import annotations

import argparse
import os
import sys

from tools.devstack.stripe_faults import RemoteFaults
from tools.devstack.stripe_local import DEFAULT_PORT, is_healthy

SERVICE_CALLS = r"^/v1/(payment_intents|refunds)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=3, help="how many requests fail (default 3)")
    parser.add_argument("--status", type=int, default=503, help="HTTP status they answer (0: drop the connection)")
    parser.add_argument(
        "--path", default=SERVICE_CALLS, help=f"regular expression on the path (default {SERVICE_CALLS})"
    )
    parser.add_argument("--order", help="only requests on this order's PaymentIntents")
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", DEFAULT_PORT)))
    parser.add_argument("--clear", action="store_true", help="remove every pending fault instead")


def execute(args: argparse.Namespace) -> int:
    api_base = f"http://127.0.0.1:{args.stripe_port}"
    if not is_healthy(api_base):
        print(f"error: the local Stripe does not answer at {api_base}: start the stack with make dev", file=sys.stderr)
        return 1
    faults = RemoteFaults(api_base)
    if args.clear:
        faults.clear()
        print(f"local Stripe at {api_base}: every pending fault removed")
        return 0
    if args.requests < 1:
        print("stripe-outage: N must be at least 1", file=sys.stderr)
        return 2
    faults.fail_next("POST", args.path, times=args.requests, status=args.status, order_id=args.order)
    answer = "a dropped connection" if args.status == 0 else f"HTTP {args.status}"
    scope = f" on order {args.order}" if args.order else ""
    print(f"local Stripe at {api_base}: the next {args.requests} POST requests{scope} get {answer}, then it recovers")
    print("Now: make pay (a payment meets the outage and is retried through SQS), make events, make check")
    return 0
