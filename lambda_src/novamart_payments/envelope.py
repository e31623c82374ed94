"""From an SQS record to a validated EventBridge event and a typed trigger.

The body of each SQS message is the EventBridge event as the rule delivered it. Parsing and schema validation
happen before anything else, so an event that breaks its contract has no side effect at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from novamart_payments.contracts import ContractViolation, Violation, validate_event
from novamart_payments.domain import Money, PaymentTrigger, RefundTrigger, TriggerMeta

PAYMENT_TRIGGERS = frozenset({"inventory.reserved", "order.ready_for_payment"})
REFUND_TRIGGERS = frozenset({"inventory.reservation_failed", "order.cancelled"})


def parse_body(body: str) -> dict[str, Any]:
    """Decode the message body; anything but a JSON object is a contract violation at the root."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError as err:
        raise ContractViolation((Violation("", f"message body is not JSON ({err.msg})"),)) from None
    if not isinstance(event, dict):
        raise ContractViolation((Violation("", "message body is not a JSON object"),))
    return event


def checked_event(body: str, accepted: frozenset[str]) -> dict[str, Any]:
    """Parse and validate; also refuse events this function does not consume (a routing error)."""
    event = parse_body(body)
    validate_event(event)
    if event["detail-type"] not in accepted:
        raise ContractViolation(
            (Violation("/detail-type", f"this function consumes only {', '.join(sorted(accepted))}"),)
        )
    return event


def _meta(detail: Mapping[str, Any]) -> TriggerMeta:
    m = detail["metadata"]
    return TriggerMeta(event_id=m["eventId"], correlation_id=m["correlationId"], request_id=m.get("requestId"))


def _amount(raw: Mapping[str, Any]) -> Money:
    return Money(int(raw["minorUnits"]), str(raw["currency"]))


def payment_trigger(event: Mapping[str, Any]) -> PaymentTrigger:
    detail = event["detail"]
    data = detail["data"]
    return PaymentTrigger(
        order_id=data["orderId"],
        customer_id=data["customerId"],
        amount=_amount(data["amount"]),
        token=data["paymentMethod"]["token"],
        meta=_meta(detail),
    )


def refund_trigger(event: Mapping[str, Any]) -> RefundTrigger:
    detail = event["detail"]
    data = detail["data"]
    amount = data.get("amount")
    return RefundTrigger(
        order_id=data["orderId"],
        reason=data["reason"],
        amount=_amount(amount) if amount is not None else None,
        meta=_meta(detail),
    )
