"""Event builders: the trigger events the service consumes, and putting them on the bus."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from novamart_payments.timestamps import utc_now

from tools.devstack.aws import chunks

SCHEMA_VERSION = "1.0"


def trigger_event(
    detail_type: str,
    data: Mapping[str, Any],
    *,
    event_id: str | None = None,
    correlation_id: str | None = None,
    request_id: str | None = None,
    schema_version: str = SCHEMA_VERSION,
) -> dict[str, Any]:
    """A whole EventBridge event (source, detail-type, detail) for a consumed detail-type."""
    source = {
        "inventory.reserved": "novamart.inventory",
        "inventory.reservation_failed": "novamart.inventory",
        "order.ready_for_payment": "novamart.orders",
        "order.cancelled": "novamart.orders",
    }[detail_type]
    metadata: dict[str, Any] = {
        "eventId": event_id or str(uuid.uuid4()),
        "schemaVersion": schema_version,
        "correlationId": correlation_id or f"corr-{uuid.uuid4()}",
        "occurredAt": utc_now(),
    }
    if request_id is not None:
        metadata["requestId"] = request_id
    return {"source": source, "detail-type": detail_type, "detail": {"metadata": metadata, "data": dict(data)}}


def payment_data(order_id: str, minor_units: int, currency: str, token: str, customer_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "customerId": customer_id,
        "amount": {"minorUnits": minor_units, "currency": currency},
        "paymentMethod": {"token": token},
    }


def refund_data(order_id: str, reason: str, amount: tuple[int, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"orderId": order_id, "reason": reason}
    if amount is not None:
        data["amount"] = {"minorUnits": amount[0], "currency": amount[1]}
    return data


def put_entry(event: Mapping[str, Any], bus: str) -> dict[str, Any]:
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "EventBusName": bus,
        **({"Resources": list(event["resources"])} if event.get("resources") else {}),
    }


def put_events(events_client: Any, bus: str, events: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents in chunks of 10; return one result entry per event; raise if any entry failed."""
    results: list[dict[str, Any]] = []
    for chunk in chunks(list(events), 10):
        response = events_client.put_events(Entries=[put_entry(e, bus) for e in chunk])
        results.extend(response["Entries"])
    failed = [r for r in results if "ErrorCode" in r]
    if failed:
        raise RuntimeError(f"PutEvents rejected {len(failed)} entries: {failed}")
    return results


# --------------------------------------------------------------------------------------------------------------
# tables
