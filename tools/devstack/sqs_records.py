"""Lambda's SQS integration, as data: the event records a function receives, the batch-item failures it
reports back, and what the stand-in tracks per message and per invocation.

The one builder of SQS event records for the tools and the tests: ``sqs_record`` from a message SQS returned
(the stand-in's poller), ``record_of`` from a body (tests, ``make invoke``, the package check), ``sqs_batch``
around them. It imports only the standard library, so the package check's Python 3.12 process, which may load
nothing but the zip, the runtime's boto3 stack and the check itself, uses it too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.devstack.stack import EventSourceMapping

LOG = logging.getLogger("localsvc")  # tools.devstack.aws.LOG, named here to keep this module stdlib-only
REGION = "us-east-2"
QUEUE_ARN = "arn:aws:sqs:us-east-2:123456789012:q"  # a queue of the tests' account, where no real queue is meant


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


def record_of(
    body: str | Mapping[str, Any],
    *,
    message_id: str | None = None,
    receipt_handle: str | None = None,
    receives: int = 1,
    queue_arn: str = QUEUE_ARN,
    region: str = REGION,
    attributes: Mapping[str, str] | None = None,
    message_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``Records`` entry of the event Lambda builds from an SQS message whose body is ``body`` (an event is
    written as JSON), received for the ``receives``-th time. A new message id unless one is given (a redelivery)."""
    text = body if isinstance(body, str) else json.dumps(body)
    message_id = message_id or str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle or f"rh-{message_id}",
        "body": text,
        "attributes": dict(attributes) if attributes is not None else {"ApproximateReceiveCount": str(receives)},
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_batch(*bodies: str | Mapping[str, Any], **record: Any) -> dict[str, Any]:
    """The event of one invocation: a record per body, each built by ``record_of`` with the keywords given."""
    return {"Records": [record_of(body, **record) for body in bodies]}


_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
)


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records`` entry of the event Lambda builds from an SQS message (as ReceiveMessage returned it)."""
    attrs = message.get("Attributes") or {}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = entry
    record = record_of(
        message["Body"],
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        queue_arn=queue_arn,
        region=region,
        attributes={k: attrs[k] for k in _RECORD_ATTRIBUTES if k in attrs},
        message_attributes=message_attributes,
    )
    record["md5OfBody"] = message.get("MD5OfBody", "")  # SQS's own digest, as Lambda passes it on
    return record


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
