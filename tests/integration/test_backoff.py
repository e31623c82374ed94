"""Per-message backoff on a real queue (issue 19): a failed record's message comes back after seconds, set by the
function on that message, not after the queue's visibility timeout; a 429 on the last receive is queued again.

The queue here has a 60 s visibility timeout: a message that came back within the first schedule entry (2 s +/-
20 %) proves the function shortened it. Each record is built from a message really received from the queue, so
its receipt handle and receive count are SQS's own.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from novamart_payments import config
from novamart_payments.handlers.payment import handler as payment_handler

from tests.support.handler_calls import Context
from tests.support.integration_aws import Aws
from tests.support.service_aws import REGION
from tests.support.stripe_movements import charges, stripe_stack
from tests.support.trigger_events import new_order, payment_event
from tools.devstack.sqs_records import sqs_record
from tools.devstack.stripe_faults import CONFIRM

QUEUE_VISIBILITY = 60


@pytest.fixture
def queue(aws: Aws) -> Iterator[tuple[str, str]]:
    name = f"it-backoff-{uuid.uuid4().hex[:8]}"
    url = aws.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY)})["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    aws.sqs.delete_queue(QueueUrl=url)


def receive(aws: Aws, url: str, wait: float) -> dict[str, Any] | None:
    """The queue's next visible message, polling until ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        out = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"])
        if out.get("Messages"):
            return dict(out["Messages"][0])
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def deliver(url_arn: tuple[str, str], message: dict[str, Any]) -> list[str]:
    batch = {"Records": [sqs_record(message, url_arn[1], REGION)]}
    return [f["itemIdentifier"] for f in payment_handler(batch, Context())["batchItemFailures"]]


def test_a_transient_failure_comes_back_after_its_backoff_not_the_visibility_timeout(
    aws: Aws, queue: tuple[str, str]
) -> None:
    url, _ = queue
    order = new_order()
    aws.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(payment_event(order)))
    first = receive(aws, url, 5)
    assert first is not None
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=503, order_id=order)
    failed_at = time.monotonic()
    assert len(deliver(queue, first)) == 1
    schedule, jitter = config.get_config().retry_schedule_seconds, config.get_config().retry_jitter
    again = receive(aws, url, schedule[0] * (1 + jitter) + 3)  # far below the queue's 60 s
    assert again is not None, "the message waited out the queue's visibility timeout: no backoff was set"
    assert time.monotonic() - failed_at >= schedule[0] * (1 - jitter) - 0.5  # and it did stay away for its backoff
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert deliver(queue, again) == []
    assert charges(order) == [4999]


def test_a_rate_limit_on_the_last_receive_is_queued_again_not_dead_lettered(aws: Aws, queue: tuple[str, str]) -> None:
    url, _ = queue
    order = new_order()
    body = json.dumps(payment_event(order))
    aws.sqs.send_message(QueueUrl=url, MessageBody=body)
    message = receive(aws, url, 5)
    assert message is not None
    message["Attributes"]["ApproximateReceiveCount"] = str(config.get_config().max_receive_count)
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=429, order_id=order, error_type="rate_limit_error")
    assert deliver(queue, message) == []  # acknowledged: SQS will not move it to the DLQ
    attrs = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    waiting = int(attrs["ApproximateNumberOfMessagesDelayed"]) + int(attrs["ApproximateNumberOfMessages"])
    assert waiting == 1  # the same body, queued again as a new message with its backoff as delay
    assert charges(order) == []
