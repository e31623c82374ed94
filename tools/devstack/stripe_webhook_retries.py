"""Stripe retries a webhook delivery that was not answered 2xx; localstripe sends each event once. This adds the retry.

The webhook function relies on it: a delivery whose object another delivery is settling answers 409, and a
delivery that could not settle answers 5xx, both counting on Stripe's retry to find the work done or do it
(``handlers/webhooks.py``). Without retries the local stack loses exactly those events, which no deployed
service would: a refund settled while the refund function still held the refund's lease (a busy machine) then
stayed PENDING until reconciliation.

What is copied from Stripe (docs.stripe.com/webhooks, "Retry behavior" and "Verify webhook signatures"):
- any answer outside 2xx, a refused connection or a timeout is retried, the same event (same id and body);
- each attempt is signed anew, with the time of that attempt in the signature's ``t``;
- each endpoint is retried on its own.
What is compressed: Stripe's backoff takes hours (test mode: three retries over a few hours); here the attempts
follow ``RETRY_SECONDS`` after the first, about half a minute in all, so a test polling with a deadline sees the
retry. localstripe's one-second delay before the first attempt is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

#: Seconds before each retry (Stripe: an exponential backoff over hours).
RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: How long one attempt may take before it counts as failed (Stripe waits some seconds for the answer).
ATTEMPT_TIMEOUT_SECONDS = 30.0


def install() -> None:
    """Replace localstripe's sender (``localstripe.webhooks._send_webhook``, which ``schedule_webhook`` calls)."""
    from localstripe import webhooks

    webhooks._send_webhook = _send_with_retries


async def _send_with_retries(event: Any) -> None:
    from localstripe import webhooks

    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
    await asyncio.sleep(1)  # localstripe's own delay: the object is stored, then Stripe tells
    endpoints = [w for w in webhooks._webhooks.values() if w.events is None or event.type in w.events]
    await asyncio.gather(*(_deliver(w.url, w.secret, event.type, payload) for w in endpoints))


async def _deliver(url: str, secret: str, kind: str, payload: bytes) -> None:
    import aiohttp

    logger = logging.getLogger("aiohttp.access")
    for attempt, pause in enumerate((0.0, *RETRY_SECONDS), start=1):
        await asyncio.sleep(pause)
        stamp = int(time.time())
        signature = hmac.new(secret.encode("utf-8"), b"%d.%s" % (stamp, payload), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={stamp},v1={signature}"}
        try:
            timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_SECONDS)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=payload, headers=headers) as answer,
            ):
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as err:
            logger.info('webhook "%s" attempt %d failed: %s', kind, attempt, err)
            continue
        if 200 <= status < 300:
            logger.info('webhook "%s" delivered (attempt %d)', kind, attempt)
            return
        logger.info('webhook "%s" attempt %d answered %d', kind, attempt, status)
    logger.info('webhook "%s" not delivered after %d attempts', kind, 1 + len(RETRY_SECONDS))
