"""Builds outcome events from records and puts them on the bus.

An outcome event is a pure function of the stored record (ids, amounts, the record's own timestamp), so every
publish of one outcome, including a republish after a crash, carries the same event id and the same content.
Each event is checked against its published schema before it leaves: a contract break is caught here, not by
the consuming teams.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from novamart_payments import clients
from novamart_payments.contracts import validate_event
from novamart_payments.domain import PaymentRecord, RefundRecord, Status, outcome_event_id
from novamart_payments.outcomes import DEFAULT_PAYMENT_FAILURE, DEFAULT_REFUND_FAILURE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "novamart.payments"
#: The schema version each published event is built to (docs/events/versioning.md). refund.failed is on major 2:
#: v1 named the failure explanation ``reason`` while the refund record's ``reason`` is why the refund was asked.
SCHEMA_VERSIONS = {
    "payment.succeeded": "1.0",
    "payment.failed": "1.1",
    "refund.succeeded": "1.0",
    "refund.failed": "2.0",
    "payment.action_required": "1.0",
    "payment.disputed": "1.0",
}


class PublishError(RuntimeError):
    """EventBridge did not accept the event; the trigger is retried so the outcome is not lost."""


def payment_outcome(record: PaymentRecord) -> dict[str, Any]:
    succeeded = record.status is Status.SUCCEEDED
    detail_type = "payment.succeeded" if succeeded else "payment.failed"
    data: dict[str, Any] = {
        "paymentId": record.payment_id,
        "orderId": record.order_id,
        "customerId": record.customer_id,
        "amount": _money(record.amount),
        "status": record.status.value,
    }
    if record.transaction_id is not None:
        data["transactionId"] = record.transaction_id
    if not succeeded:
        data["code"] = record.failure_code or DEFAULT_PAYMENT_FAILURE
        data["reason"] = record.failure_reason or "The payment failed."
    return _event(detail_type, record.payment_id, record.correlation_id, record.causation_id, _occurred(record), data)


def refund_outcome(record: RefundRecord) -> dict[str, Any]:
    succeeded = record.status is Status.SUCCEEDED
    detail_type = "refund.succeeded" if succeeded else "refund.failed"
    data: dict[str, Any] = {"refundId": record.refund_id, "orderId": record.order_id}
    for name, value in (
        ("paymentId", record.payment_id),
        ("customerId", record.customer_id),
        ("amount", _money(record.amount) if record.amount is not None else None),
    ):
        if value is not None:
            data[name] = value
    data["status"] = record.status.value
    if record.transaction_id is not None:
        data["transactionId"] = record.transaction_id
    if not succeeded:
        data["code"] = record.failure_code or DEFAULT_REFUND_FAILURE
        data["failureReason"] = record.failure_reason or "The refund failed."
        data["refundReason"] = record.reason
    return _event(detail_type, record.refund_id, record.correlation_id, record.causation_id, _occurred(record), data)


def _occurred(record: PaymentRecord | RefundRecord) -> str:
    return record.processed_at or record.updated_at


def _money(amount: Any) -> dict[str, Any]:
    return {"minorUnits": amount.minor_units, "currency": amount.currency}


def _event(
    detail_type: str,
    record_id: str,
    correlation_id: str,
    causation_id: str | None,
    occurred_at: str,
    data: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "eventId": outcome_event_id(detail_type, record_id),
        "schemaVersion": SCHEMA_VERSIONS[detail_type],
        "correlationId": correlation_id,
        "occurredAt": occurred_at,
    }
    if causation_id is not None:
        metadata["causationId"] = causation_id
    return {"source": SOURCE, "detail-type": detail_type, "detail": {"metadata": metadata, "data": data}}


class Publisher:
    def __init__(self, bus_name: str, client: EventBridgeClient | None = None) -> None:
        self._bus = bus_name
        self._client = client

    def publish(self, event: dict[str, Any]) -> None:
        validate_event(event)
        client = self._client if self._client is not None else clients.events()
        response = client.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"], separators=(",", ":")),
                    "EventBusName": self._bus,
                }
            ]
        )
        # PutEvents answers 200 even when an entry was refused; the per-entry error is the real result.
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise PublishError(
                f"PutEvents refused {event['detail-type']} "
                f"{event['detail']['metadata']['eventId']}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
