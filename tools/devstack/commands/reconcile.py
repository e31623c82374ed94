"""One reconciliation pass now: what the 5-minute schedule does, run by hand (``make reconcile``).

    python -m tools.devstack reconcile [--endpoint URL] [--region R]

Invokes the deployed reconciliation function (in-process with the local Lambda service on moto, through the
emulator's Invoke API where the emulator runs the functions) and prints its report: how many unfinished payments
it finished and how, and the age of the oldest one still open. It looks at payments older than the function's
RECONCILE_PENDING_AFTER_SECONDS / RECONCILE_ACTION_AFTER_SECONDS, as the schedule does.
"""

from __future__ import annotations

import argparse
import json
import sys

from tools.devstack.aws import endpoint_from_env, region_from_env, stand_in_enabled
from tools.devstack.stack import discover_stack
from tools.devstack.urls_and_schedules import invoke_once

HANDLER = "novamart_payments.handlers.reconcile.handler"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=endpoint_from_env())
    parser.add_argument("--region", default=region_from_env())


def execute(args: argparse.Namespace) -> int:
    stack = discover_stack(args.endpoint, args.region)
    fn = next((f for f in stack.functions.values() if f.handler == HANDLER), None)
    if fn is None:
        print(f"error: no reconciliation function at {args.endpoint} (start the stack with make dev)", file=sys.stderr)
        return 1
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    try:
        report = invoke_once(args.endpoint, args.region, fn, event, in_process=stand_in_enabled())
    except Exception as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{fn.name}: {json.dumps(report, sort_keys=True)}")
    return 0
