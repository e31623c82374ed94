"""Webhook function (``novamart-payment-webhooks``): Stripe's events, through a Lambda function URL.

Nothing is read or written before the request proves to be a fresh event signed by Stripe: an oversized body, a
missing or wrong signature, a timestamp outside the tolerance or a body that is not JSON gets a 4xx, a metric and
a log line naming the check (never the body). A genuine event is claimed by its id, settled from the gateway's
truth (``PaymentService.settle_notice``) and marked done, so a replay is answered at once and changes nothing: the
claim is Powertools Idempotency (``idempotent_function``, DynamoDB persistence) on the webhook-event table.
A failure answers 5xx, and Stripe retries the delivery (for up to three days). An event about an object Stripe
itself does not have (404 on the read-back) is a permanent answer: acknowledged with a 2xx and counted, never
retried. An event whose object another delivery is settling right now answers 409, and its retry finds it done.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from novamart_payments import clients
from novamart_payments.composition import service
from novamart_payments.config import get_config
from novamart_payments.gateway import GatewayMisconfigured
from novamart_payments.observability import Metric, count, flush, logger, traced_when_sampled
from novamart_payments.ports import Notice, NoticeBusy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

#: Stripe's events are a few KiB; anything far larger is not one of them and is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024


@functools.cache
def _signing_secret() -> Callable[[], str]:
    from novamart_payments.gateway.stripe_secrets import secret_key_reader

    cfg = get_config()
    return secret_key_reader(
        cfg.require("stripe_webhook_secret_id"),
        cfg.stripe_secret_max_age_seconds,
        cfg.aws_call_timeout_seconds,
        field="signing_secret",
        prefixes=("whsec_",),
    )


#: A handled event is remembered for a week (the table's TTL attribute), longer than Stripe retries a delivery.
KEEP_SECONDS = 7 * 24 * 3600
#: The claim's lease where there is no Lambda context to end it (tools, tests): in Lambda it is the invocation's
#: remaining time, so a delivery that crashed or timed out is retried as soon as it cannot be running any more, and
#: a live one is never overtaken (nor its record removed by a late failure of a delivery that outlived its lease).
LEASE_SECONDS = 120
#: The claim's key is ``stripe-event#<md5 of the event id>`` (Powertools hashes the idempotency data).
KEY_PREFIX = "stripe-event"
_REPLAYED = "replayed"


class EventLog(DynamoDBPersistenceLayer):
    """The Stripe events handled, on the webhook-event table as Terraform made it: its key ``eventId`` and its TTL
    attribute ``expiresAt``. A failed settlement's claim is removed (Powertools deletes it when the settlement
    raises), so Stripe's retry is not turned away; if that removal fails too, the lease still ends by itself, and
    the delivery answers as it would have (the removal's failure is not the answer)."""

    def __init__(self, table: str, client: DynamoDBClient) -> None:
        super().__init__(
            table_name=table,
            key_attr="eventId",
            expiry_attr="expiresAt",
            in_progress_expiry_attr="leaseUntilMillis",
            status_attr="state",
            data_attr="outcome",
            boto3_client=client,
        )

    def delete_record(self, data: dict[str, Any], exception: Exception) -> None:
        with contextlib.suppress(Exception):
            super().delete_record(data, exception)


@functools.cache
def _log() -> EventLog:
    """One per container, on our DynamoDB client: its timeouts, and its calls counted in the record's cap."""
    return EventLog(get_config().require("webhook_event_table_name"), clients.dynamodb())


class _Lease:
    """Stands in for a Lambda context without a deadline: the claim's lease is ``LEASE_SECONDS``."""

    def get_remaining_time_in_millis(self) -> int:
        return LEASE_SECONDS * 1000


def _replayed(response: Any, idempotent_data: DataRecord) -> str:
    """Powertools' answer for an event handled before: nothing is read or settled again."""
    count(Metric.WEBHOOK_DUPLICATE)
    return _REPLAYED


def _settle_all(event_id: str, notices: list[Notice]) -> str:
    """What the event's notices settled (``event_id`` is Powertools' idempotency data: the claim's key)."""
    return ",".join(service().settle_notice(notice) for notice in notices)


def settle_once(event_id: str, notices: list[Notice], context: Any) -> str:
    """Settle the event's notices unless it was handled before (``replayed``); raises Powertools'
    ``IdempotencyAlreadyInProgressError`` while another delivery of it holds the claim.

    The config is built per delivery, not once per container with ``register_lambda_context``: the claim's lease is
    the context's remaining time, and a shared config holds one context. Lambda runs one invocation per container,
    but the local Lambda service (tools/devstack/lambda_runtime.py) runs deliveries concurrently in one process,
    where a shared config would lend one delivery another's deadline. Building it costs microseconds."""
    lease = context if callable(getattr(context, "get_remaining_time_in_millis", None)) else _Lease()
    config = IdempotencyConfig(
        expires_after_seconds=KEEP_SECONDS, lambda_context=cast("LambdaContext", lease), response_hook=_replayed
    )
    once = idempotent_function(
        data_keyword_argument="event_id",
        persistence_store=_log(),
        config=config,
        key_prefix=KEY_PREFIX,
    )(_settle_all)
    return str(once(event_id=event_id, notices=notices))


def _answer(status: int, outcome: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"outcome": outcome}),
    }


def _reject(status: int, why: str) -> dict[str, Any]:
    count(Metric.WEBHOOK_REJECTED)
    logger.warning("webhook refused", extra={"why": why})
    return _answer(status, why)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from novamart_payments.gateway.stripe_webhooks import BadWebhook, notices_of, verified_event

    request = LambdaFunctionUrlEvent(event)
    if not isinstance(request.body or "", str):
        return _reject(400, "unreadable_body")
    try:
        # A function URL caps the request at 6 MiB, so decoding a base64 body before measuring it is cheap.
        payload = (request.decoded_body or "").encode("utf-8", errors="surrogatepass")
    except binascii.Error:
        return _reject(400, "unreadable_body")
    except UnicodeDecodeError:  # base64 of bytes that are not UTF-8: no JSON event
        return _reject(400, "not_json")
    if len(payload) > MAX_BODY_BYTES:
        return _reject(413, "body_too_large")
    try:
        stripe_event = verified_event(payload, request.headers.get("stripe-signature"), _signing_secret()())
    except BadWebhook as bad:
        return _reject(400, bad.why)
    logger.thread_safe_append_keys(stripe_event_id=stripe_event["id"], stripe_event_type=stripe_event["type"])
    notices = notices_of(stripe_event)
    if not notices:
        return _answer(200, "ignored")
    try:
        outcome = settle_once(stripe_event["id"], notices, context)
    except IdempotencyAlreadyInProgressError:
        return _answer(409, "in_progress")  # another delivery of the same event holds it: Stripe retries later
    except NoticeBusy as busy:
        # Another delivery about the same object holds it (Stripe sends a refund change as two events at once):
        # this one comes back later and finds it settled. Not an error.
        logger.info("webhook deferred; another delivery is settling the same object", extra={"why": str(busy)})
        return _answer(409, "in_progress")
    except GatewayMisconfigured as err:
        count(Metric.GATEWAY_AUTH_ERROR)
        logger.error("gateway refused our credentials; Stripe will retry", extra={"why": str(err)})
        return _answer(500, "gateway_misconfigured")
    except IdempotencyPersistenceLayerError:
        raise  # the claim or its done mark could not be written: the invocation fails, and Stripe retries
    except Exception:
        logger.exception("webhook not settled; Stripe will retry")
        return _answer(503, "retry_later")
    if outcome == _REPLAYED:
        return _answer(200, _REPLAYED)  # handled before: nothing is read or settled again
    logger.info("webhook settled", extra={"outcome": outcome.split(",")})
    return _answer(200, outcome)


@traced_when_sampled
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    get_config()
    logger.thread_safe_append_keys(function_request_id=getattr(context, "aws_request_id", None))
    clients.start_record()
    try:
        return _handle(event, context)
    finally:
        clients.end_record()
        logger.thread_safe_clear_keys()
        flush()
