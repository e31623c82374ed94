"""The payment event, SQS batch and Lambda context every benchmark feeds the handler (standard library only, so the
Python 3.12 processes that run the zip can import it too)."""

from __future__ import annotations

import json
import uuid
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
        return 60_000  # the functions' Lambda timeout


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
