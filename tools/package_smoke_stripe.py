"""`make package-check`, the Stripe part: the packaged handlers with GATEWAY_MODE=stripe against the local Stripe.

Run by tools/package_smoke.py in a Python 3.12 process of its own (the zip first on ``sys.path``, only the runtime's
boto3 stack besides), so the stripe SDK the zip ships really talks to a Stripe-compatible server: one payment and
one refund through the payment and refund functions, then one webhook localstripe signed and delivered about that
payment through the webhook function. Also holds what both processes of the check need: the tables and the Lambda
context (the SQS batch is tools/devstack/sqs_records.py's).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from tools.devstack.sqs_records import sqs_batch as batch

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_SECRET = "whsec_smoke_not_a_secret"
STRIPE_KEY = "sk_test_package_smoke"  # localstripe takes any sk_test_ key; not a secret
Check = tuple[str, bool, str]


def create_tables(endpoint: str) -> Any:
    """The three tables (with the sparse index reconciliation queries) and the webhook signing secret."""
    import boto3

    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-2")
    for table, key in (("payments", "paymentId"), ("refunds", "refundId"), ("webhook-events", "eventId")):
        indexes: dict[str, Any] = {}
        attributes = [key]
        if table != "webhook-events":  # payments and refunds each have their sparse index of unfinished ones
            attributes += ["openStatus", "openSince"]
            schema = [
                {"AttributeName": "openStatus", "KeyType": "HASH"},
                {"AttributeName": "openSince", "KeyType": "RANGE"},
            ]
            indexes["GlobalSecondaryIndexes"] = [
                {"IndexName": "unfinished", "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
            ]
        ddb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
            **indexes,
        )
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-2")
    sm.create_secret(Name="smoke/webhook-signing-secret", SecretString=WEBHOOK_SECRET)
    return ddb


class Context:
    aws_request_id = str(uuid.uuid4())
    function_name = "package-check"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-2:000000000000:function:package-check"

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout


class _Deliveries(BaseHTTPRequestHandler):
    """localstripe's webhook deliveries, kept for the main thread (the handlers run there, one at a time, as on
    Lambda); localstripe gets a plain 200."""

    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode("utf-8")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.received.put({"headers": headers, "body": body, "isBase64Encoded": False})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def stripe_checks(endpoint: str, api_base: str, webhook_port: int) -> list[Check]:
    """Payment, refund and a signed webhook through the packaged handlers on the stripe adapter."""
    server = HTTPServer(("127.0.0.1", webhook_port), _Deliveries)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")).close()
    ddb = create_tables(endpoint)
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-2")
    sm.create_secret(Name="smoke/stripe-secret-key", SecretString=STRIPE_KEY)
    os.environ.update(GATEWAY_MODE="stripe", STRIPE_SECRET_ID="smoke/stripe-secret-key", STRIPE_API_BASE=api_base)
    from novamart_payments.handlers.payment import handler as payment
    from novamart_payments.handlers.refund import handler as refund
    from novamart_payments.handlers.webhooks import handler as webhooks

    order = f"ord-{uuid.uuid4()}"
    paid = _event("order-placed.json", order)
    paid["detail"]["data"]["paymentMethod"]["token"] = "pm_card_visa"
    paid_result = payment(batch(paid), Context())
    [record] = ddb.scan(TableName="payments")["Items"]
    intent = record.get("intentId", {}).get("S", "")
    refund_result = refund(batch(_event("order-cancelled.json", order)), Context())
    refunds = sorted(i["status"]["S"] for i in ddb.scan(TableName="refunds")["Items"])
    delivery = _delivery_about(intent, "payment_intent.succeeded")
    answer = webhooks(delivery, Context()) if delivery else {}
    server.shutdown()
    return [
        (
            "stripe: payment charged at localstripe",
            not paid_result["batchItemFailures"] and record["status"]["S"] == "SUCCEEDED" and intent.startswith("pi_"),
            f"{paid_result} {record.get('status')} {intent}",
        ),
        (
            "stripe: refund made at localstripe",
            not refund_result["batchItemFailures"] and refunds == ["SUCCEEDED"],
            f"{refund_result} {refunds}",
        ),
        ("stripe: localstripe delivered a signed payment_intent.succeeded", delivery is not None, ""),
        (
            "stripe: the webhook function verified it, asked Stripe and found the payment final",
            answer.get("statusCode") == 200 and json.loads(answer.get("body", "{}")).get("outcome") == "duplicate",
            str(answer),
        ),
    ]


def _event(sample: str, order: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / sample).read_text())
    event["detail"]["data"]["orderId"] = order
    event["detail"]["metadata"]["eventId"] = str(uuid.uuid4())
    return event


def _delivery_about(intent: str, kind: str, timeout: float = 20.0) -> dict[str, Any] | None:
    """The first delivery of that kind about the intent (localstripe sends them about a second after the fact)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            delivery = _Deliveries.received.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return None
        event = json.loads(delivery["body"])
        if event.get("type") == kind and (event.get("data") or {}).get("object", {}).get("id") == intent:
            return delivery
    return None
