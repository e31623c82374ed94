"""The notification service's consumer test (team notifications): what it reads from ``refund.*``.

It tells the customer that a refund was made, or why it was not. It moved to ``refund.failed`` 2.x (the failure
explanation in ``failureReason``) and subscribes with ``{"prefix": "2."}``.
"""

from __future__ import annotations

import json

from pact import Pact, match

CONSUMER = "notifications-service"
PROVIDER = "novamart-payments"


def declare(pact: Pact) -> None:
    money = {"minorUnits": match.integer(1500), "currency": match.regex("EUR", regex=r"^[A-Z]{3}$")}
    metadata = {"eventId": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e")}
    (
        pact.upon_receiving("refund.succeeded 1.x: tell the customer the money is on its way", "Async")
        .given("a paid order was refunded in full", major=1)
        .with_body(
            {
                "detail-type": "refund.succeeded",
                "detail": {
                    "metadata": {**metadata, "schemaVersion": match.regex("1.0", regex=r"^1\.[0-9]+$")},
                    "data": {"orderId": match.like("ord-1001"), "customerId": match.like("cus-42"), "amount": money},
                },
            },
            "application/json",
        )
    )
    (
        pact.upon_receiving("refund.failed 2.x: tell the customer why the refund was not made", "Async")
        .given("a refund above the remainder was refused", major=2)
        .with_body(
            {
                "detail-type": "refund.failed",
                "detail": {
                    "metadata": {**metadata, "schemaVersion": match.regex("2.0", regex=r"^2\.[0-9]+$")},
                    "data": {
                        "orderId": match.like("ord-1001"),
                        "customerId": match.like("cus-42"),
                        "amount": money,
                        "code": match.regex("exceeds_refundable", regex=r"^[a-z][a-z0-9_]{1,63}$"),
                        "failureReason": match.like("requested 4000 exceeds the refundable 1000"),
                    },
                },
            },
            "application/json",
        )
    )


def handle(body: str | bytes | None, metadata: dict[str, object]) -> None:
    """The notification service's handler, reduced to what it reads."""
    event = json.loads(body or "{}")
    data = event["detail"]["data"]
    message = {"to": data["customerId"], "order": data["orderId"], "amount": data["amount"]["minorUnits"]}
    if event["detail-type"] == "refund.failed":
        assert event["detail"]["metadata"]["schemaVersion"].startswith("2.")
        message.update(template=data["code"], detail=data["failureReason"])


PACTS = ((CONSUMER, PROVIDER, declare, handle),)
