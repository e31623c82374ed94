"""Logger, metrics and tracer shared by both functions.

Powertools' Logger writes JSON with the correlation id of the business flow; Metrics writes CloudWatch EMF;
Tracer patches botocore, so every DynamoDB and EventBridge call is an X-Ray subsegment, and ``TracedGateway``
adds one per gateway call (the functions run with Active tracing; outside Lambda the tracer is off by itself).
Both are constructed once per process (cheap) and used through the helpers below, which take a lock because
the local Lambda stand-in and the concurrency tests invoke handlers from several threads at once, and
Powertools' metric set is shared process state.
"""

from __future__ import annotations

import os
import threading

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from novamart_payments.domain import Money
from novamart_payments.gateway import GatewayResult, PaymentGateway

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "novamart-payments"
logger = Logger(service=_SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "NovaMart/Payments")
tracer = Tracer(service=_SERVICE, patch_modules=["botocore"])
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
    TIME_GUARD_DEFERRED = "TimeGuardDeferred"


def count(name: str) -> None:
    with _lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def flush() -> None:
    with _lock:
        if metrics.metric_set:  # an empty flush only produces a warning
            metrics.flush_metrics(raise_on_empty_metrics=False)


class TracedGateway:
    """A gateway whose calls are X-Ray subsegments (``## gateway.charge`` / ``## gateway.refund``), annotated
    with the outcome only: the token, the idempotency key and the amounts stay out of the trace."""

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner

    def charge(self, *, idempotency_key: str, amount: Money, token: str, customer_id: str) -> GatewayResult:
        with tracer.provider.in_subsegment("## gateway.charge") as subsegment:
            result = self._inner.charge(
                idempotency_key=idempotency_key, amount=amount, token=token, customer_id=customer_id
            )
            subsegment.put_annotation(key="approved", value=result.approved)
            return result

    def refund(self, *, idempotency_key: str, transaction_id: str, amount: Money) -> GatewayResult:
        with tracer.provider.in_subsegment("## gateway.refund") as subsegment:
            result = self._inner.refund(idempotency_key=idempotency_key, transaction_id=transaction_id, amount=amount)
            subsegment.put_annotation(key="approved", value=result.approved)
            return result
