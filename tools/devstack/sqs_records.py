"""Lambda's SQS integration, as data: the event records a function receives, the batch-item failures it
reports back, and what the stand-in tracks per message and per invocation.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from tools.devstack.aws import LOG
from tools.devstack.stack import EventSourceMapping


@dataclass
class MessageTrack:
    """Everything the stand-in saw of one SQS message."""

    message_id: str
    function: str
    queue_arn: str
    detail_type: str | None
    order_id: str | None
    event_id: str | None
    deliveries: int = 0
    receive_count: int = 0
    state: str = "in-flight"  # in-flight | retrying | succeeded | dead-lettered
    request_ids: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return self.state in ("succeeded", "dead-lettered")


@dataclass(frozen=True)
class Invocation:
    function: str
    request_id: str
    message_ids: tuple[str, ...]
    failed_ids: tuple[str, ...]
    duration_ms: float
    error: str | None


def summary(body: str) -> tuple[str | None, str | None, str | None]:
    """(detail-type, orderId, eventId) of an EventBridge event body, without keeping anything else."""
    try:
        event = json.loads(body)
        detail = event.get("detail") or {}
        return (
            event.get("detail-type"),
            (detail.get("data") or {}).get("orderId"),
            (detail.get("metadata") or {}).get("eventId"),
        )
    except (ValueError, AttributeError, TypeError):
        return None, None, None


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records`` entry of the event Lambda builds from an SQS message."""
    attrs = message.get("Attributes") or {}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = entry
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            k: attrs[k]
            for k in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "AWSTraceHeader",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
            )
            if k in attrs
        },
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(mapping: EventSourceMapping, ids: list[str], result: Any, error: str | None) -> set[str]:
    """The message ids of a batch that stay in the queue: all on an error, else the reported failures."""
    if error is not None:
        return set(ids)
    if not mapping.report_batch_item_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    failed = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if any(not isinstance(i, str) or i not in ids for i in failed):
        LOG.error("invalid batchItemFailures %r: the whole batch counts as failed", failures)
        return set(ids)
    return {i for i in failed if isinstance(i, str)}
