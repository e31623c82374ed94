"""Webhook function (``novamart-payment-webhooks``): Stripe's events, through a Lambda function URL.

Nothing is read or written before the request proves to be a fresh event signed by Stripe: an oversized body, a
missing or wrong signature, a timestamp outside the tolerance or a body that is not JSON gets a 4xx, a metric and
a log line naming the check (never the body). A genuine event is claimed by its id (``NoticeLog``), settled from
the gateway's truth (``notices.settle``) and marked done, so a replay is answered at once and changes nothing.
A failure answers 5xx, and Stripe retries the delivery (for up to three days). An event about an object Stripe
itself does not have (404 on the read-back) is a permanent answer: acknowledged with a 2xx and counted, never
retried. An event whose object another delivery is settling right now answers 409, and its retry finds it done.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from novamart_payments import clients
from novamart_payments.config import get_config
from novamart_payments.gateway import GatewayMisconfigured
from novamart_payments.notices import NoticeBusy, NoticeLog, settle
from novamart_payments.observability import Metric, count, flush, logger, traced_when_sampled
from novamart_payments.wiring import service

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


@functools.cache
def _log() -> NoticeLog:
    return NoticeLog(get_config().require("webhook_event_table_name"))


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


def _handle(event: dict[str, Any]) -> dict[str, Any]:
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
    log = _log()
    claim = log.claim(stripe_event["id"], int(time.time()))
    if claim == "done":
        count(Metric.WEBHOOK_DUPLICATE)
        return _answer(200, "replayed")  # handled before: nothing is read or settled again
    if claim == "busy":
        return _answer(409, "in_progress")  # another delivery of the same event holds it: Stripe retries later
    try:
        outcomes = [settle(service(), notice) for notice in notices]
    except NoticeBusy as busy:
        # Another delivery about the same object holds it (Stripe sends a refund change as two events at once):
        # this one comes back later and finds it settled. Not an error.
        logger.info("webhook deferred; another delivery is settling the same object", extra={"why": str(busy)})
        _release(log, stripe_event["id"])
        return _answer(409, "in_progress")
    except GatewayMisconfigured as err:
        count(Metric.GATEWAY_AUTH_ERROR)
        logger.error("gateway refused our credentials; Stripe will retry", extra={"why": str(err)})
        _release(log, stripe_event["id"])
        return _answer(500, "gateway_misconfigured")
    except Exception:
        logger.exception("webhook not settled; Stripe will retry")
        _release(log, stripe_event["id"])
        return _answer(503, "retry_later")
    log.finish(stripe_event["id"])
    logger.info("webhook settled", extra={"outcome": outcomes})
    return _answer(200, ",".join(outcomes))


def _release(log: NoticeLog, event_id: str) -> None:
    with contextlib.suppress(Exception):  # the lease expires by itself if this fails too
        log.release(event_id)


@traced_when_sampled
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    get_config()
    logger.thread_safe_append_keys(function_request_id=getattr(context, "aws_request_id", None))
    clients.start_record()
    try:
        return _handle(event)
    finally:
        clients.end_record()
        logger.thread_safe_clear_keys()
        flush()
