"""How payments and refunds are written as DynamoDB items, and read back (the attribute names are the tables'
contract with the original design: docs/design.md)."""

from __future__ import annotations

from typing import Any

from novamart_payments.domain import Money, PaymentRecord, RefundRecord, Status, TriggerMeta
from novamart_payments.risk import RiskDecision

Item = dict[str, Any]

#: Each table's sparse index of unfinished records (``openStatus`` + ``openSince``): only PENDING and
#: REQUIRES_ACTION payments and PENDING refunds carry the two attributes, so reconciliation queries the few open
#: ones, never the table.
UNFINISHED_INDEX = "unfinished"


def meta_attrs(meta: TriggerMeta) -> Item:
    return {"correlationId": {"S": meta.correlation_id}, "causationId": {"S": meta.event_id}}


def text_attr(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def money_attr(item: Item) -> Money | None:
    if "amount" not in item or "currency" not in item:
        return None
    return Money(int(item["amount"]["N"]), item["currency"]["S"])


def payment_from_item(item: Item) -> PaymentRecord:
    return PaymentRecord(
        payment_id=item["paymentId"]["S"],
        order_id=item["orderId"]["S"],
        status=Status(item["status"]["S"]),
        customer_id=text_attr(item, "customerId"),
        amount=money_attr(item),
        refunded_minor_units=int(item.get("refundedAmount", {"N": "0"})["N"]),
        transaction_id=text_attr(item, "transactionId"),
        failure_code=text_attr(item, "failureCode"),
        failure_reason=text_attr(item, "failureReason"),
        published=bool(item.get("published", {}).get("BOOL", False)),
        cancelled_before_payment=bool(item.get("cancelledBeforePayment", {}).get("BOOL", False)),
        intent_id=text_attr(item, "intentId"),
        correlation_id=text_attr(item, "correlationId") or "",
        causation_id=text_attr(item, "causationId"),
        created_at=text_attr(item, "createdAt") or "",
        updated_at=text_attr(item, "updatedAt") or "",
        processed_at=text_attr(item, "processedAt"),
        action_type=text_attr(item, "actionType"),
        action_expires_at=text_attr(item, "actionExpiresAt"),
        dispute_ids=frozenset(item.get("disputeIds", {}).get("SS", [])),
        risk=RiskDecision.from_item(item["risk"]["M"]) if "risk" in item else None,
        radar_outcome=text_attr(item, "radarOutcome"),
        radar_risk_level=text_attr(item, "radarRiskLevel"),
        radar_risk_score=int(item["radarRiskScore"]["N"]) if "radarRiskScore" in item else None,
    )


def refund_to_item(refund: RefundRecord) -> Item:
    item: Item = {
        "refundId": {"S": refund.refund_id},
        "orderId": {"S": refund.order_id},
        "status": {"S": refund.status},
        "reason": {"S": refund.reason},
        "idempotencyKey": {"S": refund.idempotency_key},
        "published": {"BOOL": refund.published},
        "correlationId": {"S": refund.correlation_id},
        "createdAt": {"S": refund.created_at},
        "updatedAt": {"S": refund.updated_at},
    }
    optional = {
        "paymentId": refund.payment_id,
        "customerId": refund.customer_id,
        "transactionId": refund.transaction_id,
        "failureCode": refund.failure_code,
        "failureReason": refund.failure_reason,
        "causationId": refund.causation_id,
        "processedAt": refund.processed_at,
    }
    item.update({k: {"S": v} for k, v in optional.items() if v is not None})
    if refund.amount is not None:
        item["amount"] = {"N": str(refund.amount.minor_units)}
        item["currency"] = {"S": refund.amount.currency}
    if refund.approved:
        item["approved"] = {"BOOL": True}
    return item


def refund_from_item(item: Item) -> RefundRecord:
    return RefundRecord(
        refund_id=item["refundId"]["S"],
        order_id=item["orderId"]["S"],
        status=Status(item["status"]["S"]),
        amount=money_attr(item),
        payment_id=text_attr(item, "paymentId"),
        customer_id=text_attr(item, "customerId"),
        reason=text_attr(item, "reason") or "",
        transaction_id=text_attr(item, "transactionId"),
        failure_code=text_attr(item, "failureCode"),
        failure_reason=text_attr(item, "failureReason"),
        published=bool(item.get("published", {}).get("BOOL", False)),
        correlation_id=text_attr(item, "correlationId") or "",
        causation_id=text_attr(item, "causationId"),
        idempotency_key=text_attr(item, "idempotencyKey") or "",
        created_at=text_attr(item, "createdAt") or "",
        updated_at=text_attr(item, "updatedAt") or "",
        processed_at=text_attr(item, "processedAt"),
        approved=bool(item.get("approved", {}).get("BOOL", False)),
    )
