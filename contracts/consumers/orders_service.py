"""The order service's consumer test (team orders): what it reads from ``payment.*``.

The order service moves an order to PAID or PAYMENT_FAILED. It pins major 1 of both events with an EventBridge rule
(``{"prefix": "1."}`` on ``detail.metadata.schemaVersion``), deduplicates by ``eventId`` and branches on ``code``.
"""

from __future__ import annotations

import json
from typing import Any

from pact import Pact, match

CONSUMER = "orders-service"
PROVIDER = "novamart-payments"


def _envelope(detail_type: str, major: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "novamart.payments",
        "detail-type": detail_type,
        "detail": {
            "metadata": {
                "eventId": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
                "schemaVersion": match.regex(f"{major}.0", regex=rf"^{major}\.[0-9]+$"),
                "correlationId": match.like("corr-ord-1001"),
            },
            "data": data,
        },
    }


def declare(pact: Pact) -> None:
    money = {"minorUnits": match.integer(4999), "currency": match.regex("USD", regex=r"^[A-Z]{3}$")}
    (
        pact.upon_receiving("payment.succeeded 1.x: the order is paid", "Async")
        .given("an order was paid", major=1)
        .with_body(
            _envelope(
                "payment.succeeded",
                1,
                {
                    "orderId": match.like("ord-1001"),
                    "paymentId": match.uuid("a9385b8e-7320-506e-b2e2-bc6bc2da9800"),
                    "amount": money,
                    "status": "SUCCEEDED",
                    "transactionId": match.like("pi_3Q0example"),
                },
            ),
            "application/json",
        )
    )
    (
        pact.upon_receiving("payment.failed 1.x: the card was declined", "Async")
        .given("a payment was declined", major=1)
        .with_body(
            _envelope(
                "payment.failed",
                1,
                {
                    "orderId": match.like("ord-1001"),
                    "paymentId": match.uuid("a9385b8e-7320-506e-b2e2-bc6bc2da9800"),
                    "status": "FAILED",
                    "code": match.regex("card_declined", regex=r"^[a-z][a-z0-9_]{1,63}$"),
                },
            ),
            "application/json",
        )
    )


def handle(body: str | bytes | None, metadata: dict[str, object]) -> None:
    """The order service's handler, reduced to what it reads."""
    event = json.loads(body or "{}")
    data = event["detail"]["data"]
    assert event["detail"]["metadata"]["schemaVersion"].startswith("1.")
    order = {"id": data["orderId"], "payment": data["paymentId"], "dedupe": event["detail"]["metadata"]["eventId"]}
    if event["detail-type"] == "payment.succeeded":
        order.update(status="PAID", charged=data["amount"]["minorUnits"], reference=data["transactionId"])
    else:
        order.update(status="PAYMENT_FAILED", reason_code=data["code"])


PACTS = ((CONSUMER, PROVIDER, declare, handle),)
