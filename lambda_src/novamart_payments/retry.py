"""Per-message backoff: a failed record comes back after seconds, not after the queue's visibility timeout.

SQS returns a failed record's message when its visibility timeout ends. The queue's own timeout must outlive an
invocation (6 x the Lambda timeout), far too long for a customer waiting on one Stripe 500 or 429. So the
function shortens it for that one message, with ChangeMessageVisibility on the record's receipt handle, to a delay
that grows with the message's receive count (``RETRY_SCHEDULE_SECONDS``, the last entry repeating) and is spread
by ``RETRY_JITTER`` so that a burst that failed together does not come back together. The queue's maxReceiveCount
is derived from the retry horizon (``config.receives_for_horizon``), so a message is retried for about that long
before it dead-letters and reconciliation finishes its payment.

A rate limit (the gateway's 429, AWS throttling) says nothing about the message: on the message's last receive
it is queued again as a new message (receive count 1) and the old one acknowledged, so a 429 never dead-letters.

Both calls are best effort: when one fails, the message comes back after the visibility timeout, as before.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from novamart_payments import clients
from novamart_payments.config import Config, get_config
from novamart_payments.gateway import GatewayRateLimited
from novamart_payments.telemetry import Metric, count, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

#: SQS's ceilings: a message's visibility (12 h) and a new message's delay (15 min).
MAX_VISIBILITY_SECONDS = 43_200
MAX_DELAY_SECONDS = 900
_THROTTLED = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "TooManyRequests"}
)


def backoff_seconds(receives: int, cfg: Config, draw: Callable[[], float] = random.random) -> int:
    """How long the message of a record failed on its ``receives``-th receive stays away: the schedule's entry
    for that receive, spread uniformly by +/- jitter."""
    schedule = cfg.retry_schedule_seconds
    base = schedule[min(max(receives, 1), len(schedule)) - 1]
    spread = base * cfg.retry_jitter
    return max(0, min(MAX_VISIBILITY_SECONDS, round(base - spread + 2 * spread * draw())))


def rate_limited(failure: BaseException) -> bool:
    if isinstance(failure, GatewayRateLimited):
        return True
    return isinstance(failure, ClientError) and failure.response.get("Error", {}).get("Code") in _THROTTLED


def queue_url(queue_arn: str, endpoint: str) -> str:
    """The queue's URL from its ARN (``arn:aws:sqs:<region>:<account>:<name>``) on the client's endpoint."""
    account, name = queue_arn.split(":")[4:6]
    return f"{endpoint.rstrip('/')}/{account}/{name}"


def after_failure(record: SQSRecord, failure: BaseException) -> bool:
    """Set the failed record's backoff. True when the record was queued again instead (a rate limit on its last
    receive): the caller then acknowledges it."""
    cfg = get_config()
    receives = int(record.attributes.approximate_receive_count or "1")
    delay = backoff_seconds(receives, cfg)
    sqs = clients.sqs()
    url = queue_url(record.event_source_arn, sqs.meta.endpoint_url)
    try:
        if rate_limited(failure) and receives >= cfg.max_receive_count:
            sqs.send_message(QueueUrl=url, MessageBody=record.body, DelaySeconds=min(delay, MAX_DELAY_SECONDS))
            count(Metric.RATE_LIMIT_REQUEUED)
            logger.warning("rate limited on the last receive: queued again, not dead-lettered")
            return True
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay)
    except (ClientError, BotoCoreError) as err:
        count(Metric.BACKOFF_NOT_SET)
        logger.warning(
            "backoff not set; the message comes back after the queue's visibility timeout",
            extra={"why": type(err).__name__},
        )
        return False
    logger.info("message comes back after its backoff", extra={"backoff_seconds": delay, "receives": receives})
    return False
