"""The gateway request budget: requests per second for the Stripe account, shared by all four functions.

Stripe limits an account's requests per second (100 live, 25 in test mode) and answers 429 above it. Every
function's requests count against the same account, and Lambda scales them independently, so the pace is set in
one place all of them see: counters per slot of wall-clock time in DynamoDB (``gateway-budget#<slot>`` in the
table named by ``GATEWAY_BUDGET_TABLE_NAME``, expired by its TTL). Before each HTTP request (the SDK's retries
included) a sender adds one to the current slot's counter, on condition that it is below the slot's share; when
the slot is spent it waits for the next one, up to ``max_wait`` seconds, then gives the record back to its queue
as rate-limited (a backoff, never a dead letter).

A second is cut into S slots (up to 10) of ``floor(budget / (S + 1))`` requests each, S chosen to let through the
most: any 1 s window, aligned or not, overlaps at most S + 1 slots, so it never holds more than the budget, and
the sustained rate is S x that share (80/s: 9 slots of 8, 72/s, 90 % of the budget; 20/s: 9 of 2, 18/s).

Why a counter per second and not only a concurrency derived from budget x latency: a concurrency cap holds the
rate only while Stripe's latency holds; when Stripe answers faster (test mode, a quiet hour) the same concurrency
sends more requests per second, and four functions scaling apart cannot share one cap. The counter holds the rate
whatever the latency, for one conditional UpdateItem per request (about 10 ms, a fraction of a Stripe request).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from novamart_payments.gateway import GatewayRateLimited, TransientGatewayError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: How long a second's counter is kept (its TTL): long enough for an operator to read the last minutes.
KEEP_SECONDS = 3600


class RequestBudget:
    def __init__(
        self,
        table: str,
        per_second: int,
        client: Callable[[], DynamoDBClient],
        *,
        max_wait: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table
        self._limit = max(int(per_second), 1)
        self._slots, self._share = slots_for(self._limit)
        self._client = client
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep

    @property
    def per_second(self) -> int:
        return self._limit

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def sustained_per_second(self) -> int:
        return self._slots * self._share

    def take(self) -> None:
        """Spend one request of the current slot, waiting for a later slot when this one is spent."""
        deadline = self._clock() + self._max_wait
        while True:
            now = self._clock()
            slot = int(now * self._slots)
            if self._spend(slot):
                return
            starts = (slot + 1) / self._slots
            if starts > deadline:
                raise GatewayRateLimited(f"gateway request budget ({self._limit}/s) spent")
            # Wake just after the next slot begins, spread a little so waiters do not all ask at once.
            self._sleep(starts - now + random.uniform(0.0, 0.01))

    def _spend(self, slot: int) -> bool:
        try:
            self._client().update_item(
                TableName=self._table,
                Key={"eventId": {"S": f"gateway-budget#{self._slots}#{slot}"}},
                UpdateExpression="ADD spent :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(spent) OR spent < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(self._share)},
                    ":expires": {"N": str(slot // self._slots + KEEP_SECONDS)},
                },
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise TransientGatewayError(f"gateway budget unavailable: {err.response['Error']['Code']}") from None
        except BotoCoreError as err:
            raise TransientGatewayError(f"gateway budget unavailable: {type(err).__name__}") from None
        return True


def slots_for(per_second: int) -> tuple[int, int]:
    """(slots per second, requests per slot) letting the most through while any 1 s window stays in budget."""
    if per_second < 2:
        return 1, 1  # one request a second: a window straddling two seconds may see two
    best = max(range(1, 11), key=lambda n: (n * (per_second // (n + 1)), -n))
    return best, per_second // (best + 1)
