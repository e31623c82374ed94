"""Table readers: payment and refund records from DynamoDB as plain Python values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals as int (or float), recursively, so records print and compare naturally."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    return {k: _plain(des.deserialize(v)) for k, v in item.items()}


def records_for_order(ddb: Any, table: str, order_id: str) -> list[dict[str, Any]]:
    """Items of the order through the ``orderId-index`` GSI (eventually consistent, like on AWS)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "orderId-index",
        "KeyConditionExpression": "orderId = :o",
        "ExpressionAttributeValues": {":o": {"S": order_id}},
    }
    while True:
        page = ddb.query(**kwargs)
        items.extend(_deserialize(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_table(ddb: Any, table: str) -> list[dict[str, Any]]:
    return [_deserialize(i) for page in ddb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
