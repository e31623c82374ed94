"""Playing Stripe's side of a webhook: the events the local Stripe recorded, signed as Stripe signs them, and
the request a Lambda function URL hands the webhook function.

The local Lambda service delivers localstripe's own webhooks over HTTP; the integration suite calls the handler
directly, so it takes the same events from localstripe (``GET /v1/events``) and signs them with the SDK's own
``WebhookSignature.generate_signature_header``, the function Stripe's libraries use in their tests.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import stripe

WEBHOOK_SECRET = "whsec_novamart_local"  # localstripe's signing secret locally: a placeholder, not a secret
WEBHOOK_SECRET_NAME = "novamart/payments/stripe-webhook-test-secret"


def was_handled(log: Any, event_id: str) -> bool:
    """Whether the webhook function claimed the event (in progress or done); Powertools keys the claim by a hash of
    its id. Here, not in the handler module: the IAM check counts every call made from a handler module's frame as
    the function's own, and the function itself never reads a claim back (its refused write returns the item)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemNotFoundError
    from novamart_payments.handlers.webhooks import KEEP_SECONDS, KEY_PREFIX

    log.configure(IdempotencyConfig(expires_after_seconds=KEEP_SECONDS), key_prefix=KEY_PREFIX)
    try:
        return log.get_record(data=event_id) is not None
    except IdempotencyItemNotFoundError:
        return False


def store_webhook_secret(secretsmanager: Any, name: str = WEBHOOK_SECRET_NAME, value: str = WEBHOOK_SECRET) -> None:
    try:
        secretsmanager.create_secret(Name=name, SecretString=value)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=name, SecretString=value)


def stripe_events(client: Any, object_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The events localstripe recorded about one object (intent, refund, charge), oldest first."""
    params: dict[str, Any] = {"limit": 100}
    if kind:
        params["type"] = kind
    found = [
        e.to_dict()
        for e in client.v1.events.list(params=params).auto_paging_iter()
        if _names(e.to_dict()["data"]["object"], object_id)
    ]
    return sorted(found, key=lambda e: e["created"])


def _names(obj: dict[str, Any], object_id: str) -> bool:
    return object_id in (obj.get("id"), obj.get("payment_intent"), obj.get("charge"))


def signed_request(
    event: dict[str, Any] | bytes,
    secret: str = WEBHOOK_SECRET,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A function-URL request (payload format 2.0) carrying the event as Stripe posts it."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature
    if header is None:
        header = stripe.WebhookSignature.generate_signature_header(
            body.decode("utf-8", errors="replace"), secret, timestamp=timestamp or int(time.time())
        )
    return function_url_request(body, {"content-type": "application/json", "stripe-signature": header}, base64_body)


def function_url_request(body: bytes, headers: dict[str, str], base64_body: bool = False) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "127.0.0.1"}},
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8", errors="surrogatepass"),
        "isBase64Encoded": base64_body,
    }
