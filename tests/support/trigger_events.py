"""The events the service consumes, as the tests send them: a new order id, and a payment or refund trigger for it
(EventBridge envelope without the fields the handlers never read).
"""

from __future__ import annotations

import uuid
from typing import Any


def new_order() -> str:
    return f"ord-{uuid.uuid4()}"  # never a card-shaped digit run (random hex can be one)


def _metadata(request_id: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "schemaVersion": "1.0",
        "correlationId": f"corr-{uuid.uuid4().hex[:12]}",
        "occurredAt": "2026-11-26T10:00:00Z",
    }
    if request_id:
        meta["requestId"] = request_id
    return meta


def payment_event(
    order_id: str,
    minor_units: int = 4999,
    currency: str = "USD",
    token: str = "pm_card_visa",
    detail_type: str = "order.ready_for_payment",
    customer_id: str = "cus-1001",
) -> dict[str, Any]:
    source = "novamart.orders" if detail_type.startswith("order.") else "novamart.inventory"
    return {
        "source": source,
        "detail-type": detail_type,
        "detail": {
            "metadata": _metadata(),
            "data": {
                "orderId": order_id,
                "customerId": customer_id,
                "amount": {"minorUnits": minor_units, "currency": currency},
                "paymentMethod": {"token": token},
            },
        },
    }


def refund_event(
    order_id: str,
    minor_units: int | None = None,
    currency: str = "USD",
    detail_type: str = "order.cancelled",
    request_id: str | None = None,
) -> dict[str, Any]:
    source = "novamart.orders" if detail_type.startswith("order.") else "novamart.inventory"
    data: dict[str, Any] = {"orderId": order_id, "reason": "customer cancelled"}
    if minor_units is not None:
        data["amount"] = {"minorUnits": minor_units, "currency": currency}
    return {
        "source": source,
        "detail-type": detail_type,
        "detail": {"metadata": _metadata(request_id), "data": data},
    }
