"""The webhook events already handled (``NoticeLog``, a DynamoDB adapter), so a replayed event is answered at once.

What a notification may tell the service is in ``ports`` (the notice types); how each is settled is in
``settlement``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from novamart_payments import clients

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class NoticeLog:
    """The gateway events already handled, keyed by the gateway's event id (a TTL forgets them after a week,
    longer than Stripe retries a delivery).

    A delivery first claims the id for a short lease, settles, then marks it done. A concurrent duplicate finds the
    lease and is answered "try later" (the gateway retries); a replay of a finished one is answered at once; a
    delivery that crashed leaves a lease that expires, so the gateway's retry handles it.
    """

    LEASE_SECONDS = 120
    KEEP_SECONDS = 7 * 24 * 3600

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        return self._client if self._client is not None else clients.dynamodb()

    def claim(self, event_id: str, now: int) -> str:
        """``claimed``, ``done`` (handled before) or ``busy`` (another delivery holds it now)."""
        try:
            self.client.put_item(
                TableName=self._table,
                Item={
                    "eventId": {"S": event_id},
                    "state": {"S": "processing"},
                    "leaseUntil": {"N": str(now + self.LEASE_SECONDS)},
                    "expiresAt": {"N": str(now + self.KEEP_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(eventId) OR (#st = :processing AND leaseUntil < :now)",
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues={":processing": {"S": "processing"}, ":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = dict(err.response.get("Item") or {})  # type: ignore[call-overload]
            return "done" if old.get("state", {}).get("S") == "done" else "busy"
        return "claimed"

    def finish(self, event_id: str) -> None:
        self.client.update_item(
            TableName=self._table,
            Key={"eventId": {"S": event_id}},
            UpdateExpression="SET #st = :done REMOVE leaseUntil",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":done": {"S": "done"}},
        )

    def release(self, event_id: str) -> None:
        """Give the claim back after a failure, so the gateway's retry is not turned away until the lease ends."""
        self.client.delete_item(
            TableName=self._table,
            Key={"eventId": {"S": event_id}},
            ConditionExpression="#st = :processing",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":processing": {"S": "processing"}},
        )
