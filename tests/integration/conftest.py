"""The session's moto server with the tables and the audit queue the handlers need, and helpers to drive them.

The handlers are called directly with SQS batch events, the way the Lambda service calls them; published
events are read back from an SQS queue fed by an EventBridge rule on ``novamart.payments``, exactly how the
behaviour suite observes them. The gateway is the production Stripe adapter against localstripe (which protects
nothing: no idempotency, no refund ceiling), behind a fault-injecting proxy; money movements are counted per
order at the gateway.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from novamart_payments import clients, config
from novamart_payments.handlers import _batch
from novamart_payments.majors import is_current_edition

from tests.support.gateway import StripeStack, store_test_key
from tests.support.service_aws import create_audit_queue, create_tables, handler_environment
from tests.support.webhooks import WEBHOOK_SECRET_NAME, store_webhook_secret
from tools.devstack.sqs_records import sqs_batch

REGION = "us-east-2"
PAYMENTS, REFUNDS, BUS = "it-payments", "it-refunds", "default"
WEBHOOK_EVENTS = "it-webhook-events"


@dataclass
class Aws:
    endpoint: str
    dynamodb: Any
    sqs: Any
    audit_queue_url: str

    def published(self, order_id: str, *, all_majors: bool = False) -> list[dict[str, Any]]:
        """Drain the audit queue and return every published event seen so far for this order: each outcome once, in
        its current major, unless ``all_majors`` (then also the older majors' editions in their window)."""
        while True:
            out = self.sqs.receive_message(QueueUrl=self.audit_queue_url, MaxNumberOfMessages=10)
            messages = out.get("Messages", [])
            if not messages:
                break
            for m in messages:
                _SEEN.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.audit_queue_url, ReceiptHandle=m["ReceiptHandle"])
        return [
            e for e in _SEEN if e["detail"]["data"]["orderId"] == order_id and (all_majors or is_current_edition(e))
        ]

    def payment_items(self, order_id: str) -> list[dict[str, Any]]:
        return _scan(self.dynamodb, PAYMENTS, order_id)

    def refund_items(self, order_id: str) -> list[dict[str, Any]]:
        return _scan(self.dynamodb, REFUNDS, order_id)


_SEEN: list[dict[str, Any]] = []


def _scan(client: Any, table: str, order_id: str) -> list[dict[str, Any]]:
    out = client.scan(
        TableName=table,
        FilterExpression="orderId = :o",
        ExpressionAttributeValues={":o": {"S": order_id}},
        ConsistentRead=True,
    )
    return list(out["Items"])


_GATEWAY: list[StripeStack] = []


@pytest.fixture(scope="session")
def aws(moto_endpoint: str, local_stripe: StripeStack) -> Iterator[Aws]:
    """The session's moto server (shared with the other suites: names here carry an ``it-`` prefix)."""
    endpoint = moto_endpoint
    mp = pytest.MonkeyPatch()
    env = {
        **handler_environment(endpoint, PAYMENTS, REFUNDS, BUS),
        **local_stripe.stripe_environment(),
        "WEBHOOK_EVENT_TABLE_NAME": WEBHOOK_EVENTS,
        "STRIPE_WEBHOOK_SECRET_ID": WEBHOOK_SECRET_NAME,
    }
    for key, value in env.items():
        mp.setenv(key, value)
    kw = {"endpoint_url": endpoint, "region_name": REGION}
    ddb, sqs, events = boto3.client("dynamodb", **kw), boto3.client("sqs", **kw), boto3.client("events", **kw)
    store_test_key(boto3.client("secretsmanager", **kw))
    store_webhook_secret(boto3.client("secretsmanager", **kw))
    _GATEWAY[:] = [local_stripe]
    create_tables(ddb, PAYMENTS, REFUNDS, WEBHOOK_EVENTS)
    queue_url = create_audit_queue(sqs, events, "it-audit")
    _reset_process_state()
    yield Aws(endpoint, ddb, sqs, queue_url)
    mp.undo()
    _reset_process_state()


def _reset_process_state() -> None:
    from novamart_payments.handlers import webhooks

    config.get_config.cache_clear()
    clients.reset()
    _batch.service.cache_clear()
    webhooks._signing_secret.cache_clear()
    webhooks._log.cache_clear()


@pytest.fixture
def svc(aws: Aws) -> Any:
    """The handlers' cached service, for tests that inject crashes into one of its collaborators."""
    return _batch.service()


def new_order() -> str:
    return f"ord-{uuid.uuid4()}"  # never a card-shaped digit run (random hex can be one)


def _metadata(request_id: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "schemaVersion": "1.0",
        "correlationId": f"corr-{uuid.uuid4().hex[:12]}",
        "occurredAt": "2026-11-26T10:00:00Z",
    }
    if request_id:
        meta["requestId"] = request_id
    return meta


def payment_event(
    order_id: str,
    minor_units: int = 4999,
    currency: str = "USD",
    token: str = "pm_card_visa",
    detail_type: str = "order.ready_for_payment",
    customer_id: str = "cus-1001",
) -> dict[str, Any]:
    source = "novamart.orders" if detail_type.startswith("order.") else "novamart.inventory"
    return {
        "source": source,
        "detail-type": detail_type,
        "detail": {
            "metadata": _metadata(),
            "data": {
                "orderId": order_id,
                "customerId": customer_id,
                "amount": {"minorUnits": minor_units, "currency": currency},
                "paymentMethod": {"token": token},
            },
        },
    }


def refund_event(
    order_id: str,
    minor_units: int | None = None,
    currency: str = "USD",
    detail_type: str = "order.cancelled",
    request_id: str | None = None,
) -> dict[str, Any]:
    source = "novamart.orders" if detail_type.startswith("order.") else "novamart.inventory"
    data: dict[str, Any] = {"orderId": order_id, "reason": "customer cancelled"}
    if minor_units is not None:
        data["amount"] = {"minorUnits": minor_units, "currency": currency}
    return {
        "source": source,
        "detail-type": detail_type,
        "detail": {"metadata": _metadata(request_id), "data": data},
    }


class Context:
    """Enough of the Lambda context for Powertools."""

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "test"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:test"

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout (terraform: lambda_timeout_seconds)


def invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    *bodies: dict[str, Any] | str,
    message_id: str | None = None,
    receives: int = 1,
) -> list[str]:
    """Invoke a handler with one SQS batch; returns the message ids it reported as failed."""
    batch = sqs_batch(*bodies, message_id=message_id, receives=receives)
    result = handler(batch, Context())
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def stripe_stack() -> StripeStack:
    return _GATEWAY[0]


def card(name: str) -> str:
    """A payment-method token for a Stripe test card (``visa``, ``declined``, ``three_d_secure`` or a number)."""
    return stripe_stack().stripe.payment_method(name)


def charges(order_id: str) -> list[int]:
    """Amounts charged for the order at the gateway (its succeeded PaymentIntents, found by order id)."""
    return [int(i.amount) for i in stripe_stack().stripe.charges(order_id)]


def refunds(order_id: str) -> list[int]:
    """Amounts refunded for the order at the gateway (every refund on any of its charges)."""
    return sorted(int(r.amount) for r in stripe_stack().stripe.refunds(order_id))
