"""The AWS calls a new payment cannot avoid, made raw with boto3: the baseline every handler figure is divided by.

A new payment costs three calls (README, "Crash safety"): the conditional PutItem that claims the order, the
PutEvents of its outcome, and the conditional UpdateItem that records the outcome. Items and details are shaped
like the handler's. This module imports boto3 only, so the cold-start baseline process can use it without
loading anything of the service.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

CREATED_AT = "2026-11-26T10:00:00.000Z"


def payment_id(order_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))


def claim(ddb: Any, table: str, order_id: str) -> None:
    """The conditional PutItem of the PENDING record."""
    ddb.put_item(
        TableName=table,
        Item={
            "paymentId": {"S": payment_id(order_id)},
            "orderId": {"S": order_id},
            "customerId": {"S": "cus-1001"},
            "amount": {"N": "4999"},
            "currency": {"S": "USD"},
            "status": {"S": "PENDING"},
            "version": {"N": "1"},
            "createdAt": {"S": CREATED_AT},
        },
        ConditionExpression="attribute_not_exists(paymentId)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def publish(events: Any, order_id: str, bus: str = "default") -> None:
    """PutEvents of the outcome event."""
    detail = {
        "metadata": {"eventId": str(uuid.uuid4()), "schemaVersion": "1.0", "correlationId": "corr-bench"},
        "data": {"paymentId": payment_id(order_id), "orderId": order_id, "status": "SUCCEEDED"},
    }
    response = events.put_events(
        Entries=[
            {
                "Source": "novamart.payments",
                "DetailType": "payment.succeeded",
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        ]
    )
    assert response.get("FailedEntryCount", 0) == 0, response


def finish(ddb: Any, table: str, order_id: str) -> None:
    """The conditional UpdateItem of the final state, as the service makes it (no image asked back)."""
    ddb.update_item(
        TableName=table,
        Key={"paymentId": {"S": payment_id(order_id)}},
        UpdateExpression="SET #s = :status, updatedAt = :now, version = version + :one, published = :true, "
        "transactionId = :txn, processedAt = :now",
        ConditionExpression="#s = :pending",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":status": {"S": "SUCCEEDED"},
            ":pending": {"S": "PENDING"},
            ":now": {"S": CREATED_AT},
            ":one": {"N": "1"},
            ":true": {"BOOL": True},
            ":txn": {"S": "ch_sim_0123456789abcdef01234567"},
        },
        ReturnValues="NONE",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def new_payment(ddb: Any, events: Any, table: str, order_id: str) -> None:
    """All three calls of a new payment, in the handler's order."""
    claim(ddb, table, order_id)
    publish(events, order_id)
    finish(ddb, table, order_id)
