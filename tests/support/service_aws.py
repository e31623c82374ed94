"""The AWS resources the handlers need, made directly with boto3 for suites that do not apply Terraform.

The integration, reliability and benchmark suites each want tables and an audit queue of their own (moto
shares one state per process, so each suite uses its own name prefix); they all make them here, shaped like the
Terraform tables (hash key, ``orderId-index`` GSI) so the handlers cannot tell the difference.
"""

from __future__ import annotations

import json
from typing import Any

PUBLISHED_SOURCE = "novamart.payments"
REGION = "us-east-2"


def handler_environment(endpoint: str, payments: str, refunds: str, bus: str = "default") -> dict[str, str]:
    """The environment the Lambda service would give the handlers, pointed at an emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PAYMENT_TABLE_NAME": payments,
        "REFUND_TABLE_NAME": refunds,
        "EVENT_BUS_NAME": bus,
        "GATEWAY_MODE": "simulated",
    }


def create_tables(dynamodb: Any, payments: str, refunds: str, webhook_events: str | None = None) -> None:
    """Both tables as Terraform makes them, each with its sparse ``unfinished`` index too, and
    the webhook function's table of handled Stripe events when a name is given."""
    for table, key in ((payments, "paymentId"), (refunds, "refundId")):
        dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in (key, "orderId", "openStatus", "openSince")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "orderId-index",
                    "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "unfinished",
                    "KeySchema": [
                        {"AttributeName": "openStatus", "KeyType": "HASH"},
                        {"AttributeName": "openSince", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
        )
    if webhook_events is not None:
        dynamodb.create_table(
            TableName=webhook_events,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
        )


def create_audit_queue(sqs: Any, events: Any, name: str) -> str:
    """An SQS queue fed by a rule on everything the service publishes (what Terraform's audit tap does)."""
    queue_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [PUBLISHED_SOURCE]}))
    events.put_targets(Rule=name, Targets=[{"Id": "audit", "Arn": queue_arn}])
    return queue_url


def drain_audit_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every event waiting on an audit queue; returns them as received."""
    events: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        events.extend(json.loads(m["Body"]) for m in messages)
        answer = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        if answer.get("Failed"):  # a message left behind would come back and be counted twice
            raise RuntimeError(f"the audit queue kept messages it was asked to delete: {answer['Failed']}")
    return events


def remove_audit_rule(events: Any, name: str) -> None:
    events.remove_targets(Rule=name, Ids=["audit"])
    events.delete_rule(Name=name)


def reset_process_state() -> None:
    """Forget what the handlers cached in this process (configuration, clients, the service, the webhook secret), so
    the next call reads the environment a suite's fixture just set."""
    from novamart_payments import clients, config
    from novamart_payments.handlers import _batch, webhooks

    config.get_config.cache_clear()
    clients.reset()
    _batch.service.cache_clear()
    webhooks._signing_secret.cache_clear()
    webhooks._log.cache_clear()
