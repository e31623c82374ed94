"""`make invoke EVENT=events/<file>.json [ORDER=<id>]`: run the deployed function's handler on one event through
python-lambda-local.

    python -m tools.devstack invoke EVENT_FILE [--order ORDER_ID]

This is the seed's ``sam local invoke``. The sample file is an EventBridge event; on AWS it reaches the function
through the rule's SQS queue, so it is wrapped into a one-record SQS batch exactly as the event-source mapping
would deliver it, from that queue.

The handler runs with the configuration of the function deployed in the running stack (read back from the
emulator at ``AWS_ENDPOINT_URL``): the same tables, bus and gateway, which on ``envs/local`` is the local Stripe.
So what an invocation records is what the deployed functions can later act on: a payment made here is refunded
by a cancellation put on the bus, and ``make doctor`` stays green. (It used to run on the in-process simulated
gateway while writing into the stack's tables: the deployed refund function then asked the local Stripe for a
``ch_sim_…`` charge that does not exist, and the cancellation dead-lettered.) Its first line says which tables
and which gateway it used. Sample tokens become the local Stripe's test cards first, as ``make seed`` does.

``--order`` (``ORDER=``) gives the event that order id and a new event id, so a sample runs as a fresh order;
invoke ``events/order-cancelled.json`` with the same ``ORDER`` to cancel it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tools.devstack.aws import PAYMENT_FUNCTION, REFUND_FUNCTION, endpoint_from_env, region_from_env
from tools.devstack.lambda_runtime import FunctionInvoker
from tools.devstack.processes import ROOT
from tools.devstack.sqs_records import sqs_batch
from tools.devstack.stack import discover_stack
from tools.devstack.stripe_local import is_healthy as stripe_is_healthy
from tools.devstack.stripe_local import prepare_trigger

HANDLERS = {
    "inventory.reserved": PAYMENT_FUNCTION,
    "order.ready_for_payment": PAYMENT_FUNCTION,
    "inventory.reservation_failed": REFUND_FUNCTION,
    "order.cancelled": REFUND_FUNCTION,
}


def fail(message: str) -> int:
    print(f"invoke: {message}", file=sys.stderr)
    return 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", type=Path, help="an EventBridge event file, e.g. events/order-placed.json")
    parser.add_argument("--order", help="run the event for this order id (with a new event id)")


def load_event(path: Path, order: str | None) -> dict[str, Any] | str:
    """The event from ``path`` (``order`` applied), or the reason it cannot be used."""
    if not path.is_file():
        return f"{path} does not exist; sample events are in events/"
    try:
        event = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        return f"{path} is not JSON: {err}"
    if not isinstance(event, dict) or event.get("detail-type") not in HANDLERS:
        return f"{path}: detail-type must be one of {', '.join(sorted(HANDLERS))}"
    if order:
        detail = event.setdefault("detail", {})
        detail.setdefault("data", {})["orderId"] = order
        metadata = detail.setdefault("metadata", {})
        metadata["eventId"] = str(uuid.uuid4())
        if "requestId" in metadata:
            metadata["requestId"] = f"req-{uuid.uuid4().hex[:12]}"
    return event


def execute(args: argparse.Namespace) -> int:
    event = load_event(args.event, args.order)
    if isinstance(event, str):
        return fail(event)
    endpoint, region = endpoint_from_env(), region_from_env()
    try:
        stack = discover_stack(endpoint, region)
    except Exception as exc:
        return fail(f"no emulator answers at {endpoint} ({type(exc).__name__}); start the stack: make dev")
    name = HANDLERS[event["detail-type"]]
    fn = stack.functions.get(name)
    if fn is None:
        return fail(f"{name} is not deployed at {endpoint}; start the stack: make dev")
    env = FunctionInvoker(endpoint, region).environment(fn)
    if env.get("GATEWAY_MODE") == "stripe":
        api_base = env.get("STRIPE_API_BASE", "")
        if not stripe_is_healthy(api_base):
            return fail(f"the local Stripe does not answer at {api_base}; start the stack: make dev")
        prepare_trigger(event, api_base)
        gateway = f"the local Stripe at {api_base}"
    else:
        gateway = f"the {env.get('GATEWAY_MODE', 'simulated')} gateway the deployed function uses"
    queue_arn = next((m.queue.arn for m in stack.mappings if m.function.name == name), f"arn:aws:sqs:{region}::q")
    batch = sqs_batch(event, receipt_handle="local-invoke", queue_arn=queue_arn, region=region)
    order = (event.get("detail") or {}).get("data", {}).get("orderId", "?")
    print(f">> {event['detail-type']} for order {order} -> {name} ({fn.handler}) via python-lambda-local")
    print(
        f">> the deployed function's configuration: tables {env.get('PAYMENT_TABLE_NAME')}/"
        f"{env.get('REFUND_TABLE_NAME')} and bus {env.get('EVENT_BUS_NAME')} at {endpoint}, gateway: {gateway}"
    )
    module, _, function = fn.handler.rpartition(".")
    with tempfile.TemporaryDirectory() as tmp:
        batch_file, env_file = Path(tmp) / "batch.json", Path(tmp) / "env.json"
        batch_file.write_text(json.dumps(batch))
        env_file.write_text(json.dumps(env))
        cmd = [
            str(Path(sys.executable).parent / "python-lambda-local"),
            "-l", str(ROOT / "lambda_src"),
            "-f", function,
            "-t", str(fn.timeout_seconds),
            "-e", str(env_file),
            str(ROOT / "lambda_src" / (module.replace(".", "/") + ".py")),
            str(batch_file),
        ]  # fmt: skip
        done = subprocess.run(cmd, text=True, capture_output=True)
    output = done.stdout + done.stderr
    for line in output.splitlines():
        # python-lambda-local logs the whole input event, payment token included: never print that line.
        print("[event line withheld: it carries a payment token]" if "] Event: " in line else line)
    if done.returncode != 0 or "batchItemFailures" not in output:
        return fail("the handler did not return a batch response")
    if '"itemIdentifier"' in output or "'itemIdentifier'" in output:
        return fail("the handler reported the record as failed (see the log above)")
    print(f">> done: make check (records of order {order}), make events (what it published)")
    return 0
