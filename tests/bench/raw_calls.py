"""The AWS calls a new payment cannot avoid, made raw with boto3: the baseline every handler figure is divided by.

A new payment costs four calls (README, "Crash safety"): the conditional PutItem that claims the order (before any
gateway request, so with no intent yet), the conditional UpdateItem that stores the gateway intent the claim's owner
opened, the PutEvents of its outcome, and the conditional UpdateItem that records the outcome. Items, expressions
and details carry the same attributes as the handler's requests (captured from it with botocore's
``provide-client-params`` hook), so only the handler's own work separates the two. This module needs nothing but
the clients it is given, so the cold-start baseline process uses it without loading anything of the service.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

CREATED_AT = "2026-11-26T10:00:00.000Z"
INTENT_AT = "2026-11-26T10:00:00.003Z"
PROCESSED_AT = "2026-11-26T10:00:00.005Z"
FINISHED_AT = "2026-11-26T10:00:00.012Z"


def payment_id(order_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))


def claim(ddb: Any, table: str, order_id: str) -> None:
    """The conditional PutItem of the PENDING record, with the attributes the repository writes."""
    ddb.put_item(
        TableName=table,
        Item={
            "paymentId": {"S": payment_id(order_id)},
            "orderId": {"S": order_id},
            "customerId": {"S": "cus-1001"},
            "amount": {"N": "4999"},
            "currency": {"S": "USD"},
            "status": {"S": "PENDING"},
            "openStatus": {"S": "PENDING"},  # the sparse unfinished index reconciliation reads
            "openSince": {"S": CREATED_AT},
            "refundedAmount": {"N": "0"},
            "version": {"N": "1"},
            "published": {"BOOL": False},
            "createdAt": {"S": CREATED_AT},
            "updatedAt": {"S": CREATED_AT},
            "correlationId": {"S": "corr-0123456789ab"},
            "causationId": {"S": str(uuid.uuid4())},
        },
        ConditionExpression="attribute_not_exists(paymentId)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def store_intent(ddb: Any, table: str, order_id: str) -> None:
    """The conditional UpdateItem that attaches the opened gateway intent to the PENDING record, as the repository
    makes it (new image asked back: the handler confirms the intent the record now holds)."""
    ddb.update_item(
        TableName=table,
        Key={"paymentId": {"S": payment_id(order_id)}},
        UpdateExpression="SET intentId = :intent, updatedAt = :now",
        ConditionExpression="#s = :pending AND attribute_not_exists(intentId) AND attribute_not_exists(abandonedAt)",
        ExpressionAttributeValues={
            ":intent": {"S": "pi_sim000000000001"},
            ":now": {"S": INTENT_AT},
            ":pending": {"S": "PENDING"},
        },
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ExpressionAttributeNames={"#s": "status"},
    )


def publish(events: Any, order_id: str, bus: str = "default") -> None:
    """PutEvents of the outcome event, its detail as the publisher builds it."""
    detail = {
        "metadata": {
            "eventId": str(uuid.uuid4()),
            "schemaVersion": "1.0",
            "correlationId": "corr-0123456789ab",
            "occurredAt": PROCESSED_AT,
            "causationId": str(uuid.uuid4()),
        },
        "data": {
            "paymentId": payment_id(order_id),
            "orderId": order_id,
            "customerId": "cus-1001",
            "amount": {"minorUnits": 4999, "currency": "USD"},
            "status": "SUCCEEDED",
            "transactionId": "ch_sim_0123456789abcdef01234567",
        },
    }
    response = events.put_events(
        Entries=[
            {
                "Source": "novamart.payments",
                "DetailType": "payment.succeeded",
                "Detail": json.dumps(detail, separators=(",", ":")),
                "EventBusName": bus,
            }
        ]
    )
    assert response.get("FailedEntryCount", 0) == 0, response


def finish(ddb: Any, table: str, order_id: str) -> None:
    """The conditional UpdateItem of the final state, as the repository makes it (no image asked back)."""
    ddb.update_item(
        TableName=table,
        Key={"paymentId": {"S": payment_id(order_id)}},
        UpdateExpression="SET #s = :status, updatedAt = :now, version = version + :one, published = :true, "
        "transactionId = :txn, processedAt = :processed REMOVE openStatus, openSince",
        ConditionExpression="#s IN (:pending, :action)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":pending": {"S": "PENDING"},
            ":action": {"S": "REQUIRES_ACTION"},
            ":status": {"S": "SUCCEEDED"},
            ":now": {"S": FINISHED_AT},
            ":one": {"N": "1"},
            ":true": {"BOOL": True},
            ":txn": {"S": "ch_sim_0123456789abcdef01234567"},
            ":processed": {"S": PROCESSED_AT},
        },
        ReturnValues="NONE",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def new_payment(ddb: Any, events: Any, table: str, order_id: str) -> None:
    """All four calls of a new payment, in the handler's order."""
    claim(ddb, table, order_id)
    store_intent(ddb, table, order_id)
    publish(events, order_id)
    finish(ddb, table, order_id)
