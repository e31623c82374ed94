"""The risk counters in DynamoDB: each order counted once, however many deliveries ask.

One item per customer (``cust#<customerId>``) holds an attribute per counted order, ``o#<orderId>`` =
``<claimedAt>|<minorUnits>|<currency>``, written with ``attribute_not_exists`` on that attribute: a redelivery, a
crash-and-retry or the order's second trigger finds its order already there and adds nothing. DynamoDB applies
updates to one item one after another, so 16 concurrent orders of one customer each read back (``ALL_NEW``) the
orders counted before them and themselves: the counts are exact, not eventually so. One item per token and UTC day
(``tok#<sha256>#<day>``) holds an attribute per customer that paid with it (``c#<customerId>``), which is idempotent
by nature. Both expire through the table's TTL (``expiresAt``) once no window can reach them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from novamart_payments import clients
from novamart_payments.risk import RiskSubject
from novamart_payments.risk.rules import CounterView, Rules, token_hash
from novamart_payments.timestamps import parse

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ORDER_PREFIX = "o#"
CUSTOMER_PREFIX = "c#"


def _epoch(timestamp: str, plus: timedelta) -> str:
    return str(int((parse(timestamp) + plus).timestamp()))


class Counters:
    def __init__(self, table: str, client: Callable[[], DynamoDBClient] = clients.dynamodb) -> None:
        self._table = table
        self._dynamodb = client  # the record's capped client, built on first use

    @property
    def client(self) -> DynamoDBClient:
        return self._dynamodb()

    def count(self, subject: RiskSubject, rules: Rules) -> CounterView:
        """Count the order (once) in every counter a rule reads, and return what the counters say about it."""
        orders: tuple[tuple[str, str, int, str], ...] = ()
        customers = 0
        if rules.velocity:
            orders = self._count_order(subject, rules.longest_window_seconds)
        if rules.max_customers_per_token_per_day is not None:
            customers = self._count_token_customer(subject)
        return CounterView(orders, customers)

    def _count_order(self, subject: RiskSubject, window_seconds: int) -> tuple[tuple[str, str, int, str], ...]:
        entry = f"{subject.claimed_at}|{subject.amount.minor_units}|{subject.amount.currency}"
        try:
            out = self.client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"cust#{subject.customer_id}"}},
                UpdateExpression="SET #o = :entry, expiresAt = :ttl",
                ConditionExpression="attribute_not_exists(#o)",
                ExpressionAttributeNames={"#o": f"{ORDER_PREFIX}{subject.order_id}"},
                ExpressionAttributeValues={
                    ":entry": {"S": entry},
                    ":ttl": {"N": _epoch(subject.claimed_at, timedelta(seconds=window_seconds, days=1))},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            item: dict[str, Any] = dict(out["Attributes"])
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: Any = err.response.get("Item")  # counted by an earlier delivery: the item as it stands
            item = dict(old or {})
        found = []
        for name, value in item.items():
            if name.startswith(ORDER_PREFIX):
                claimed, minor, currency = value["S"].split("|")
                found.append((name[len(ORDER_PREFIX) :], claimed, int(minor), currency))
        return tuple(sorted(found, key=lambda o: (o[1], o[0])))

    def _count_token_customer(self, subject: RiskSubject) -> int:
        day = subject.claimed_at[:10]
        out = self.client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"tok#{token_hash(subject.token)}#{day}"}},
            UpdateExpression="SET #c = if_not_exists(#c, :order), expiresAt = :ttl",
            ExpressionAttributeNames={"#c": f"{CUSTOMER_PREFIX}{subject.customer_id}"},
            ExpressionAttributeValues={
                ":order": {"S": subject.order_id},
                ":ttl": {"N": _epoch(f"{day}T00:00:00Z", timedelta(days=2))},
            },
            ReturnValues="ALL_NEW",
        )
        return sum(1 for name in out["Attributes"] if name.startswith(CUSTOMER_PREFIX))
