"""Our own consumer tests: what the payment service reads from the four events it consumes.

The orders team (``order.ready_for_payment``, ``order.cancelled``) and the inventory team (``inventory.reserved``,
``inventory.reservation_failed``) verify these pacts against their producers. The handler is the service's real
decoding path: the schema check of every consumed event and the trigger the handlers build from it.
"""

from __future__ import annotations

from typing import Any

from pact import Pact, match

CONSUMER = "novamart-payments"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


def _event(source: str, detail_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": source,
        "detail-type": detail_type,
        "detail": {
            "metadata": {
                "eventId": match.uuid("5d2c9a7e-3b1f-4e8a-9c6d-0000000000c9"),
                "schemaVersion": match.regex("1.0", regex=r"^1\.[0-9]+$"),
                "correlationId": match.regex("corr-ord-1001", regex=r"^[A-Za-z0-9._:-]{1,128}$"),
                "occurredAt": match.regex(
                    "2026-11-26T10:00:00Z", regex=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
                ),
            },
            "data": data,
        },
    }


def _payment(source: str, detail_type: str) -> dict[str, Any]:
    return _event(
        source,
        detail_type,
        {
            "orderId": match.regex("ord-1001", regex=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
            "customerId": match.regex("cus-42", regex=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
            "amount": {"minorUnits": match.integer(4999), "currency": match.regex("USD", regex=r"^[A-Z]{3}$")},
            "paymentMethod": {"token": match.regex("pm_card_visa", regex=r"^pm_[A-Za-z0-9_]{1,250}$")},
        },
    )


def _refund(source: str, detail_type: str) -> dict[str, Any]:
    return _event(
        source,
        detail_type,
        {
            "orderId": match.regex("ord-1001", regex=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
            "reason": match.like("Customer cancelled before shipping"),
        },
    )


def declare_orders(pact: Pact) -> None:
    (
        pact.upon_receiving("order.ready_for_payment 1.x: take the payment", "Async")
        .given("an order is ready for payment")
        .with_body(_payment("novamart.orders", "order.ready_for_payment"), "application/json")
    )
    (
        pact.upon_receiving("order.cancelled 1.x: refund the order", "Async")
        .given("an order was cancelled")
        .with_body(_refund("novamart.orders", "order.cancelled"), "application/json")
    )


def declare_inventory(pact: Pact) -> None:
    (
        pact.upon_receiving("inventory.reserved 1.x: take the payment", "Async")
        .given("the order's inventory was reserved")
        .with_body(_payment("novamart.inventory", "inventory.reserved"), "application/json")
    )
    (
        pact.upon_receiving("inventory.reservation_failed 1.x: refund the order", "Async")
        .given("the order's inventory could not be reserved")
        .with_body(_refund("novamart.inventory", "inventory.reservation_failed"), "application/json")
    )


def handle(body: str | bytes | None, metadata: dict[str, object]) -> None:
    """The service's own decoding: the consumed event's schema check, then the trigger its handler acts on."""
    from novamart_payments.envelope import checked_event, payment_trigger, refund_trigger

    text = body.decode() if isinstance(body, bytes) else (body or "")
    event = checked_event(
        text,
        frozenset({"order.ready_for_payment", "inventory.reserved", "order.cancelled", "inventory.reservation_failed"}),
    )
    if event["detail-type"] in ("order.ready_for_payment", "inventory.reserved"):
        payment_trigger(event)
    else:
        refund_trigger(event)


PACTS = (
    (CONSUMER, "orders-service", declare_orders, handle),
    (CONSUMER, "inventory-service", declare_inventory, handle),
)
