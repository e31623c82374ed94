"""Outcome events, built from records: what the service publishes, as a pure function of the stored record.

An outcome event is a pure function of the stored record (ids, amounts, the record's own timestamp), so every
publish of one outcome, including a republish after a crash, carries the same event id and the same content.
The builders build the current major of each event; the publisher (``publisher.py``, the EventBridge adapter)
sends it once per major in force and checks each edition against its schema before it leaves.
"""

from __future__ import annotations

from typing import Any

from novamart_payments.domain import Dispute, PaymentRecord, RefundRecord, Status, outcome_event_id
from novamart_payments.failure_codes import DEFAULT_PAYMENT_FAILURE, DEFAULT_REFUND_FAILURE
from novamart_payments.majors import PUBLISHED_MAJORS

SOURCE = "novamart.payments"
#: The schema version each published event is built to: the current major of majors.PUBLISHED_MAJORS (older
#: majors in force are derived from it when published).
SCHEMA_VERSIONS = {detail_type: majors.current for detail_type, majors in PUBLISHED_MAJORS.items()}


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
