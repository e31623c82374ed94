"""Builds outcome events from records and puts them on the bus.

An outcome event is a pure function of the stored record (ids, amounts, the record's own timestamp), so every
publish of one outcome, including a republish after a crash, carries the same event id and the same content.
Each event is checked against its published schema before it leaves: a contract break is caught here, not by
the consuming teams.

The builders build the current major of each event; ``Publisher.publish`` sends it once per major in force
(majors.py: an older major lives on for its deprecation window), every edition with the same ``eventId``, all
checked before any leaves and sent in one PutEvents call, and counts each in the metric
``EventPublished.<detail-type>.v<major>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from novamart_payments import clients
from novamart_payments.contracts import validate_event
from novamart_payments.domain import Money, PaymentRecord, RefundRecord, Status, outcome_event_id
from novamart_payments.majors import PUBLISHED_MAJORS, Windows, editions
from novamart_payments.observability import published
from novamart_payments.outcomes import DEFAULT_PAYMENT_FAILURE, DEFAULT_REFUND_FAILURE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "novamart.payments"
#: The schema version each published event is built to: the current major of majors.PUBLISHED_MAJORS (older
#: majors in force are derived from it when published).
SCHEMA_VERSIONS = {detail_type: majors.current for detail_type, majors in PUBLISHED_MAJORS.items()}


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


def action_required(record: PaymentRecord) -> dict[str, Any]:
    """What the storefront needs to bring the customer back on-session: the intent id and the kind of action,
    never the intent's client secret (the storefront reads that from the gateway with its own key)."""
    assert record.intent_id is not None and record.action_expires_at is not None
    data: dict[str, Any] = {
        "paymentId": record.payment_id,
        "orderId": record.order_id,
        "customerId": record.customer_id,
        "amount": _money(record.amount),
        "status": Status.REQUIRES_ACTION.value,
        "intentId": record.intent_id,
        "action": record.action_type or "other",
        "expiresAt": record.action_expires_at,
    }
    return _event(
        "payment.action_required",
        record.payment_id,
        record.correlation_id,
        record.causation_id,
        record.processed_at or record.created_at,
        data,
    )


@dataclass(frozen=True, slots=True)
class Dispute:
    """A chargeback the gateway told us about: on which charge, for how much, and the bank's stated reason."""

    dispute_id: str
    transaction_id: str
    amount: Money
    reason: str
    opened_at: str


def payment_disputed(record: PaymentRecord, dispute: Dispute) -> dict[str, Any]:
    """Caused by the payment's own ``payment.succeeded``: the chargeback is about that captured payment."""
    data = {
        "paymentId": record.payment_id,
        "orderId": record.order_id,
        "customerId": record.customer_id,
        "amount": _money(dispute.amount),
        "disputeId": dispute.dispute_id,
        "transactionId": dispute.transaction_id,
        "disputeReason": dispute.reason,
    }
    cause = outcome_event_id("payment.succeeded", record.payment_id)
    return _event("payment.disputed", dispute.dispute_id, record.correlation_id, cause, dispute.opened_at, data)


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
    if record.reason or not succeeded:  # refund.succeeded 1.1: optional; refund.failed 2.0: required
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


def _utc_today() -> date:
    return datetime.now(UTC).date()


class Publisher:
    """Puts outcome events on the bus, once per major in force (``windows``: None is majors.py's own table)."""

    def __init__(
        self,
        bus_name: str,
        client: EventBridgeClient | None = None,
        *,
        windows: Windows | None = None,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self._bus = bus_name
        self._client = client
        self._windows = windows
        self._today = today

    def editions(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The event as it goes out: once per major in force, the same ``eventId`` in each.

        An event built to an older major (a replay tool's) goes out as it is.
        """
        detail_type = str(event.get("detail-type"))
        detail = event["detail"]
        if detail["metadata"].get("schemaVersion") != SCHEMA_VERSIONS.get(detail_type):
            return [dict(event)]
        out = []
        for version, data in editions(detail_type, detail["data"], self._today(), self._windows):
            metadata = {**detail["metadata"], "schemaVersion": version}
            out.append({**event, "detail": {"metadata": metadata, "data": data}})
        return out

    @staticmethod
    def _check(event: Mapping[str, Any]) -> None:
        """An event that breaks its contract never leaves (tools/mutants.py removes this check)."""
        validate_event(event)

    def publish(self, event: dict[str, Any]) -> None:
        # Every edition is checked before any leaves: one fact goes out in all its majors or in none.
        outgoing = self.editions(event)
        for edition in outgoing:
            self._check(edition)
        client = self._client if self._client is not None else clients.events()
        response = client.put_events(
            Entries=[
                {
                    "Source": edition["source"],
                    "DetailType": edition["detail-type"],
                    "Detail": json.dumps(edition["detail"], separators=(",", ":")),
                    "EventBusName": self._bus,
                }
                for edition in outgoing
            ]
        )
        # PutEvents answers 200 even when an entry was refused; the per-entry error is the real result. The retry
        # republishes every edition (same eventId): consumers deduplicate, as for any redelivery.
        if response.get("FailedEntryCount", 0):
            failed = [e for e in response["Entries"] if e.get("ErrorCode")] or response["Entries"]
            entry = failed[0]
            raise PublishError(
                f"PutEvents refused {event['detail-type']} "
                f"{event['detail']['metadata']['eventId']}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
        for edition in outgoing:
            published(edition["detail-type"], edition["detail"]["metadata"]["schemaVersion"])
