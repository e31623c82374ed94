"""Fixtures of the integration suite: the session's moto server with the tables and the audit queue the handlers
need, and the local Stripe behind its fault proxy.

The handlers are called directly with SQS batch events, the way the Lambda service calls them; published
events are read back from an SQS queue fed by an EventBridge rule on ``novamart.payments``, exactly how the
behaviour suite observes them. The gateway is the production Stripe adapter against localstripe (which protects
nothing: no idempotency, no refund ceiling), behind a fault-injecting proxy; money movements are counted per
order at the gateway. The helpers the tests use live in tests/support: ``integration_aws`` (this suite's tables
and what was published), ``trigger_events``, ``handler_calls`` and ``stripe_movements``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from novamart_payments.handlers import _batch

from tests.support import stripe_movements
from tests.support.gateway import StripeStack, store_test_key
from tests.support.integration_aws import BUS, PAYMENTS, REFUNDS, WEBHOOK_EVENTS, Aws
from tests.support.service_aws import (
    REGION,
    create_audit_queue,
    create_tables,
    handler_environment,
    reset_process_state,
)
from tests.support.webhooks import WEBHOOK_SECRET_NAME, store_webhook_secret


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
    stripe_movements.use(local_stripe)
    create_tables(ddb, PAYMENTS, REFUNDS, WEBHOOK_EVENTS)
    queue_url = create_audit_queue(sqs, events, "it-audit")
    reset_process_state()
    yield Aws(endpoint, ddb, sqs, queue_url)
    mp.undo()
    reset_process_state()


@pytest.fixture
def svc(aws: Aws) -> Any:
    """The handlers' cached service, for tests that inject crashes into one of its collaborators."""
    return _batch.service()
