"""What every benchmark shares: the payment event, SQS batch and Lambda context it feeds the handler, and the way it
starts an emulator. Standard library only, so the Python 3.12 processes that run the zip can import it too."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REGION = "us-east-2"


class Ctx:
    """The parts of Lambda's context object the handlers read."""

    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout


def lambda_environment(task_root: str, *, sampled: bool) -> dict[str, str]:
    """The variables the Lambda service sets in the function's process, which the libraries read to behave as on
    Lambda: Powertools' Tracer is on only with ``AWS_LAMBDA_FUNCTION_NAME``; the X-Ray SDK builds its Lambda
    recorder (no sampling client) only with ``LAMBDA_TASK_ROOT``, and traces an invocation whose
    ``_X_AMZN_TRACE_ID`` says ``Sampled=1`` (the functions run with Active tracing). Without them a benchmark
    measures a process no Lambda runs: the X-Ray SDK alone then builds a botocore client for its sampling rules
    at import (80 ms here)."""
    return {
        "LAMBDA_TASK_ROOT": task_root,
        "AWS_LAMBDA_FUNCTION_NAME": "novamart-payment-processor",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_X_AMZN_TRACE_ID": trace_header(sampled=sampled),
    }


def trace_header(*, sampled: bool) -> str:
    """A new X-Ray trace header, as the Lambda runtime sets ``_X_AMZN_TRACE_ID`` for each invocation."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled={int(sampled)}"


def payment_event(order_id: str) -> dict[str, Any]:
    """A valid ``order.ready_for_payment`` event for a new order."""
    return {
        "source": "novamart.orders",
        "detail-type": "order.ready_for_payment",
        "detail": {
            "metadata": {
                "eventId": str(uuid.uuid4()),
                "schemaVersion": "1.0",
                "correlationId": f"corr-{uuid.uuid4().hex[:12]}",
                "occurredAt": "2026-11-26T10:00:00Z",
            },
            "data": {
                "orderId": order_id,
                "customerId": "cus-1001",
                "amount": {"minorUnits": 4999, "currency": "USD"},
                "paymentMethod": {"token": "pm_card_visa"},
            },
        },
    }


def sqs_batch(event: dict[str, Any]) -> dict[str, Any]:
    """The one-record SQS batch Lambda's event-source mapping would deliver for ``event``."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": json.dumps(event),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:bench",
                "awsRegion": REGION,
            }
        ]
    }


@contextmanager
def moto_server(command: list[str]) -> Iterator[str]:
    """Run ``command`` (``{port}`` replaced by a free port) until it accepts connections; yield its endpoint."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [arg.replace("{port}", str(port)) for arg in command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{command[1:3]} did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
