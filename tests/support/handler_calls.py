"""Calling a handler the way the Lambda service does: with a Lambda context and an SQS batch of events
(built by tools/devstack/sqs_records.py), reading back which messages it reported as failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tools.devstack.sqs_records import sqs_batch


class Context:
    """Enough of the Lambda context for Powertools."""

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "test"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:test"

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout (terraform: lambda_timeout_seconds)


def invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    *bodies: dict[str, Any] | str,
    message_id: str | None = None,
    receives: int = 1,
) -> list[str]:
    """Invoke a handler with one SQS batch; returns the message ids it reported as failed."""
    batch = sqs_batch(*bodies, message_id=message_id, receives=receives)
    result = handler(batch, Context())
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]
