"""The log and the metrics every layer writes: Powertools' Logger (JSON, with the business flow's correlation id)
and Metrics (CloudWatch EMF), built on first use.

Built lazily because importing ``aws_lambda_powertools`` imports botocore (its package ``__init__`` registers a
user-agent hook on botocore sessions), and the core (domain, ports, the service) must load without an AWS SDK:
its decision tests run without one. A Lambda function imports Powertools at init anyway (its handler module
does), so nothing moves into an invocation. The helpers take a lock because the local Lambda stand-in and the
concurrency tests invoke handlers from several threads at once, and Powertools' metric set is shared process
state.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:  # the types only: the classes are imported on first use (see the module's docstring)
    from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME") or "novamart-payments"
_lock = threading.Lock()
_T = TypeVar("_T")


class _OnFirstUse(Generic[_T]):
    """Stands for the object ``build`` returns, built (once) when an attribute is first read."""

    def __init__(self, build: Callable[[], _T]) -> None:
        self._build = functools.cache(build)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)


def _logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE_NAME)


def _metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "NovaMart/Payments")


logger = cast("Logger", _OnFirstUse(_logger))
metrics = cast("Metrics", _OnFirstUse(_metrics))


class Metric:
    """Metric names: one place, so dashboards and alarms do not chase typos."""

    PAYMENT_SUCCEEDED = "PaymentSucceeded"
    PAYMENT_FAILED = "PaymentFailed"
    REFUND_SUCCEEDED = "RefundSucceeded"
    REFUND_FAILED = "RefundFailed"
    DUPLICATE_DELIVERY = "DuplicateDelivery"
    DUPLICATE_REJECTED = "DuplicateRejected"
    VALIDATION_REJECTED = "ValidationRejected"
    TRANSIENT_RETRY = "TransientRetry"
    REFUND_PENDING = "RefundPending"
    # Our own faults at the gateway: alarmed, never published as the customer's failure.
    GATEWAY_IDEMPOTENCY_ERROR = "GatewayIdempotencyError"
    GATEWAY_AUTH_ERROR = "GatewayAuthError"
    TIME_GUARD_DEFERRED = "TimeGuardDeferred"
    # Per-message backoff: a rate-limited record queued again on its last receive (never dead-lettered for a
    # 429), and a backoff that could not be set (the message then waits out the queue's visibility timeout).
    RATE_LIMIT_REQUEUED = "RateLimitRequeued"
    BACKOFF_NOT_SET = "BackoffNotSet"
    PAYMENT_ACTION_REQUIRED = "PaymentActionRequired"
    PAYMENT_DISPUTED = "PaymentDisputed"
    # Webhooks: refused before anything was read or written (bad signature, stale, not JSON, too large).
    WEBHOOK_REJECTED = "WebhookRejected"
    WEBHOOK_DUPLICATE = "WebhookDuplicate"
    # A signed event about an object the gateway does not have (404 on the read-back): acknowledged, not retried.
    WEBHOOK_UNKNOWN_OBJECT = "WebhookUnknownObject"
    # Reconciliation: records it finished, and the age of the oldest unfinished payment (alarmed).
    RECONCILED = "Reconciled"
    OLDEST_UNFINISHED_AGE = "OldestUnfinishedAgeSeconds"
    # Every event put on the bus, one metric per detail-type and major (``published``): during a deprecation window
    # the old major's count shows it still goes out (majors.py).
    EVENT_PUBLISHED = "EventPublished"


def gauge_seconds(name: str, value: float) -> None:
    with _lock:
        metrics.add_metric(name=name, unit="Seconds", value=value)


def count(name: str) -> None:
    with _lock:
        metrics.add_metric(name=name, unit="Count", value=1)


def published(detail_type: str, schema_version: str) -> None:
    """Count one published event per detail-type and major: ``EventPublished.<detail-type>.v<major>``.

    A metric name per major in the invocation's metric set (flushed once, with the others): a metric of its own
    dimensions (Powertools' single_metric) cost 125 µs per event, more than half of the handler's own CPU.
    """
    count(f"{Metric.EVENT_PUBLISHED}.{detail_type}.v{schema_version.split('.')[0]}")


def flush() -> None:
    with _lock:
        if metrics.metric_set:  # an empty flush only produces a warning
            metrics.flush_metrics(raise_on_empty_metrics=False)
