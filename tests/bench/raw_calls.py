"""The AWS calls a new payment cannot avoid, made raw with boto3: the baseline every handler figure is divided by.

A new payment costs four calls (README, "Crash safety"): the conditional PutItem that claims the order (before any
gateway request, so with no intent yet), the conditional UpdateItem that stores the gateway intent the claim's owner
opened, the PutEvents of its outcome, and the conditional UpdateItem that records the outcome. Items, expressions
and details carry the same attributes as the handler's requests (captured from it with botocore's
``provide-client-params`` hook), so only the handler's own work separates the two. This module needs nothing but
the clients it is given, so the cold-start baseline process uses it without loading anything of the service.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

CREATED_AT = "2026-11-26T10:00:00.000Z"
INTENT_AT = "2026-11-26T10:00:00.003Z"
PROCESSED_AT = "2026-11-26T10:00:00.005Z"
FINISHED_AT = "2026-11-26T10:00:00.012Z"


def payment_id(order_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))


def claim(ddb: Any, table: str, order_id: str) -> None:
    """The conditional PutItem of the PENDING record, with the attributes the repository writes."""
    ddb.put_item(
        TableName=table,
        Item={
            "paymentId": {"S": payment_id(order_id)},
            "orderId": {"S": order_id},
            "customerId": {"S": "cus-1001"},
            "amount": {"N": "4999"},
            "currency": {"S": "USD"},
            "status": {"S": "PENDING"},
            "openStatus": {"S": "PENDING"},  # the sparse unfinished index reconciliation reads
            "openSince": {"S": CREATED_AT},
            "refundedAmount": {"N": "0"},
            "version": {"N": "1"},
            "published": {"BOOL": False},
            "createdAt": {"S": CREATED_AT},
            "updatedAt": {"S": CREATED_AT},
            "correlationId": {"S": "corr-0123456789ab"},
            "causationId": {"S": str(uuid.uuid4())},
        },
        ConditionExpression="attribute_not_exists(paymentId)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def store_intent(ddb: Any, table: str, order_id: str) -> None:
    """The conditional UpdateItem that attaches the opened gateway intent to the PENDING record, as the repository
    makes it (new image asked back: the handler confirms the intent the record now holds)."""
    ddb.update_item(
        TableName=table,
        Key={"paymentId": {"S": payment_id(order_id)}},
        UpdateExpression="SET intentId = :intent, updatedAt = :now",
        ConditionExpression="#s = :pending AND attribute_not_exists(intentId) AND attribute_not_exists(abandonedAt)",
        ExpressionAttributeValues={
            ":intent": {"S": "pi_sim000000000001"},
            ":now": {"S": INTENT_AT},
            ":pending": {"S": "PENDING"},
        },
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ExpressionAttributeNames={"#s": "status"},
    )


def publish(events: Any, order_id: str, bus: str = "default") -> None:
    """PutEvents of the outcome event, its detail as the publisher builds it."""
    detail = {
        "metadata": {
            "eventId": str(uuid.uuid4()),
            "schemaVersion": "1.0",
            "correlationId": "corr-0123456789ab",
            "occurredAt": PROCESSED_AT,
            "causationId": str(uuid.uuid4()),
        },
        "data": {
            "paymentId": payment_id(order_id),
            "orderId": order_id,
            "customerId": "cus-1001",
            "amount": {"minorUnits": 4999, "currency": "USD"},
            "status": "SUCCEEDED",
            "transactionId": "ch_sim_0123456789abcdef01234567",
        },
    }
    response = events.put_events(
        Entries=[
            {
                "Source": "novamart.payments",
                "DetailType": "payment.succeeded",
                "Detail": json.dumps(detail, separators=(",", ":")),
                "EventBusName": bus,
            }
        ]
    )
    assert response.get("FailedEntryCount", 0) == 0, response


def finish(ddb: Any, table: str, order_id: str, *, radar: bool = False) -> None:
    """The conditional UpdateItem of the final state, as the repository makes it (no image asked back); with
    ``radar``, the charge's Radar outcome too, as a Stripe charge carries one."""
    radar_set, radar_values = "", {}
    if radar:
        radar_set = ", radarOutcome = :radar, radarRiskLevel = :risklevel, radarRiskScore = :riskscore"
        radar_values = {":radar": {"S": "authorized"}, ":risklevel": {"S": "normal"}, ":riskscore": {"N": "12"}}
    ddb.update_item(
        TableName=table,
        Key={"paymentId": {"S": payment_id(order_id)}},
        UpdateExpression="SET #s = :status, updatedAt = :now, version = version + :one, published = :true, "
        f"transactionId = :txn, processedAt = :processed{radar_set} REMOVE openStatus, openSince",
        ConditionExpression="#s IN (:pending, :action)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":pending": {"S": "PENDING"},
            ":action": {"S": "REQUIRES_ACTION"},
            ":status": {"S": "SUCCEEDED"},
            ":now": {"S": FINISHED_AT},
            ":one": {"N": "1"},
            ":true": {"BOOL": True},
            ":txn": {"S": "ch_sim_0123456789abcdef01234567"},
            ":processed": {"S": PROCESSED_AT},
            **radar_values,
        },
        ReturnValues="NONE",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def new_payment(ddb: Any, events: Any, table: str, order_id: str) -> None:
    """All four calls of a new payment, in the handler's order."""
    claim(ddb, table, order_id)
    store_intent(ddb, table, order_id)
    publish(events, order_id)
    finish(ddb, table, order_id)


# --- the production gateway (GATEWAY_MODE=stripe) ----------------------------------------------------------------
# What a new payment adds when the gateway is Stripe, made raw: the secret key read once from Secrets Manager, one
# request-budget counter (an UpdateItem) before each gateway request, and the two requests themselves (create the
# PaymentIntent, confirm it), sent with the standard library's http.client as the SDK sends them (form-encoded, the
# idempotency keys, the API version). The cold-start row of the stripe mode divides by this.

STRIPE_VERSION = "2025-03-31.basil"


def spend_budget(ddb: Any, budget_table: str, slot: int) -> None:
    """The budget's conditional counter, as novamart_payments.budget.RequestBudget._spend writes it."""
    ddb.update_item(
        TableName=budget_table,
        Key={"eventId": {"S": f"gateway-budget#10#{slot}"}},
        UpdateExpression="ADD spent :one SET expiresAt = :expires",
        ConditionExpression="attribute_not_exists(spent) OR spent < :limit",
        ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "1000000"}, ":expires": {"N": "9999999999"}},
    )


def _stripe_post(conn: Any, key: str, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
    from urllib.parse import urlencode

    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Idempotency-Key": idempotency_key,
        "Stripe-Version": STRIPE_VERSION,
    }
    conn.request("POST", path, body=urlencode(form), headers=headers)
    response = conn.getresponse()
    answer: dict[str, Any] = json.loads(response.read())
    assert response.status == 200, answer
    return answer


def new_stripe_payment(
    ddb: Any, events: Any, secrets: Any, table: str, budget_table: str, secret_id: str, api_base: str, order_id: str
) -> str:
    """A new payment on Stripe, raw: claim, key, budget + create, store, budget + confirm, publish, finish.
    Answers the PaymentIntent's id (the check that Stripe was really asked)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    claim(ddb, table, order_id)
    key = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    url = urlsplit(api_base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=5)
    metadata = {"orderId": order_id, "paymentId": payment_id(order_id), "correlationId": "corr-0123456789ab"}
    form = {
        "amount": "4999",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "payment_method_types[0]": "card",
        "capture_method": "automatic",
        **{f"metadata[{k}]": v for k, v in metadata.items()},
    }
    spend_budget(ddb, budget_table, int(time.time() * 10))
    intent = _stripe_post(conn, key, "/v1/payment_intents", form, f"{payment_id(order_id)}:create")
    store_intent(ddb, table, order_id)
    spend_budget(ddb, budget_table, int(time.time() * 10))
    confirmed = _stripe_post(
        conn, key, f"/v1/payment_intents/{intent['id']}/confirm", {"expand[0]": "latest_charge"}, f"{intent['id']}:c"
    )
    assert confirmed["status"] == "succeeded", confirmed["status"]
    conn.close()
    publish(events, order_id)
    finish(ddb, table, order_id, radar=True)
    return str(intent["id"])
