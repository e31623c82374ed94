"""`make invoke EVENT=events/<file>.json`: run the right handler on one sample event through python-lambda-local.

This is the seed's ``sam local invoke``. The sample file is an EventBridge event; on AWS it reaches the function
through the rule's SQS queue, so it is wrapped into a one-record SQS batch exactly as the event-source mapping
would deliver it. The handler talks to whatever ``AWS_ENDPOINT_URL`` points at (the embedded emulator by
default, after `make emulator deploy-local`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tools.devstack.processes import ROOT

HANDLERS = {
    "inventory.reserved": "payment",
    "order.ready_for_payment": "payment",
    "inventory.reservation_failed": "refund",
    "order.cancelled": "refund",
}
DEFAULT_ENV = {
    "PAYMENT_TABLE_NAME": "payments",
    "REFUND_TABLE_NAME": "refunds",
    "EVENT_BUS_NAME": "default",
    "GATEWAY_MODE": "simulated",
    "POWERTOOLS_SERVICE_NAME": "novamart-payments",
    "POWERTOOLS_METRICS_NAMESPACE": "NovaMart/Payments",
}


def fail(message: str) -> int:
    print(f"invoke: {message}", file=sys.stderr)
    return 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", type=Path, help="an EventBridge event file, e.g. events/order-placed.json")


def execute(args: argparse.Namespace) -> int:
    path: Path = args.event
    if not path.is_file():
        return fail(f"{path} does not exist; sample events are in events/")
    try:
        event = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        return fail(f"{path} is not JSON: {err}")
    function = HANDLERS.get(event.get("detail-type", "") if isinstance(event, dict) else "")
    if function is None:
        return fail(f"{path}: detail-type must be one of {', '.join(sorted(HANDLERS))}")
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    try:
        urllib.request.urlopen(endpoint, timeout=2)
    except urllib.error.HTTPError:
        pass  # any HTTP answer means something is listening
    except OSError:
        return fail(f"no emulator answers at {endpoint}; run `make emulator deploy-local` first")

    batch = {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "local-invoke",
                "body": json.dumps(event),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-2:000000000000:novamart-{function}-queue",
                "awsRegion": os.environ.get("AWS_REGION", "us-east-2"),
            }
        ]
    }
    env = {**DEFAULT_ENV, **{k: os.environ[k] for k in DEFAULT_ENV if k in os.environ}}
    env["AWS_ENDPOINT_URL"] = endpoint
    env["AWS_REGION"] = os.environ.get("AWS_REGION", "us-east-2")
    with tempfile.TemporaryDirectory() as tmp:
        batch_file, env_file = Path(tmp) / "batch.json", Path(tmp) / "env.json"
        batch_file.write_text(json.dumps(batch))
        env_file.write_text(json.dumps(env))
        print(f">> {event['detail-type']} -> novamart-{function}-handler via python-lambda-local ({endpoint})")
        cmd = [
            str(Path(sys.executable).parent / "python-lambda-local"),
            "-l", str(ROOT / "lambda_src"),
            "-f", "handler",
            "-t", "60",
            "-e", str(env_file),
            str(ROOT / "lambda_src" / "novamart_payments" / "handlers" / f"{function}.py"),
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
    return 0
