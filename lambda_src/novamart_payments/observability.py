"""Logger and metrics shared by both functions.

Powertools' Logger writes JSON with the correlation id of the business flow; Metrics writes CloudWatch EMF.
Both are constructed once per process (cheap) and used through the helpers below, which take a lock because
the local Lambda stand-in and the concurrency tests invoke handlers from several threads at once, and
Powertools' metric set is shared process state.
"""

from __future__ import annotations

import os
import threading

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "novamart-payments")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "NovaMart/Payments")
_lock = threading.Lock()


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


def count(name: str) -> None:
    with _lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def flush() -> None:
    with _lock:
        if metrics.metric_set:  # an empty flush only produces a warning
            metrics.flush_metrics(raise_on_empty_metrics=False)
