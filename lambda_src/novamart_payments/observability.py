"""Logger, metrics and tracer shared by both functions.

Powertools' Logger writes JSON with the correlation id of the business flow; Metrics writes CloudWatch EMF;
Tracer patches botocore, so every DynamoDB and EventBridge call is an X-Ray subsegment, and ``TracedGateway``
adds one per gateway call (the functions run with Active tracing; outside Lambda the tracer is off by itself).
Both are constructed once per process (cheap) and used through the helpers below, which take a lock because
the local Lambda stand-in and the concurrency tests invoke handlers from several threads at once, and
Powertools' metric set is shared process state.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from novamart_payments.gateway import ChargeRequest, GatewayResult, PaymentGateway, RefundRequest

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "novamart-payments"
logger = Logger(service=_SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "NovaMart/Payments")
tracer = Tracer(service=_SERVICE, patch_modules=["botocore"])
_lock = threading.Lock()
_T = TypeVar("_T")


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
        metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)


def count(name: str) -> None:
    with _lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


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


def sampled() -> bool:
    """Whether this invocation's trace is recorded: tracing is on and the Lambda runtime's trace header for the
    invocation says ``Sampled=1``.

    In an unsampled invocation (X-Ray's default rule records the first request each second and 5 % of the rest)
    the X-Ray SDK still builds every subsegment, as a dummy it never sends, parsing the trace header from the
    environment several times for each: two gateway subsegments were a third of the handler's own CPU per
    event. Asking first costs one lookup and changes no trace that is sent.
    """
    return not tracer.disabled and "Sampled=1" in os.environ.get("_X_AMZN_TRACE_ID", "")


_cold = [True]  # this process has not served an invocation yet (one flag per process, turned under ``_lock``)


def _cold_start() -> bool:
    """True for the process's first invocation only, sampled or not."""
    with _lock:
        cold, _cold[0] = _cold[0], False
    return cold


def traced_when_sampled(handler: Callable[[Any, Any], _T]) -> Callable[[Any, Any], _T]:
    """A ``## handler`` subsegment annotated ColdStart and Service, as Powertools' ``capture_lambda_handler`` makes,
    for a sampled invocation only; the bare handler otherwise, where the X-Ray SDK would build a dummy subsegment
    and annotate it, at about a sixth of the handler's own CPU per event, and send nothing.

    Not ``capture_lambda_handler`` itself: it reads the cold start from a flag of its own that only it turns (and
    only through a private function), so after an unsampled first invocation it would annotate the next sampled
    one as a cold start. The subsegment is opened through the tracer's public provider instead, with our own
    per-process flag, which every invocation turns, sampled or not; the X-Ray SDK records a raised exception on it.
    """
    name = f"## {handler.__name__}"

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> _T:
        cold = _cold_start()
        if not sampled():
            return handler(event, context)
        with tracer.provider.in_subsegment(name) as subsegment:
            subsegment.put_annotation(key="ColdStart", value=cold)
            subsegment.put_annotation(key="Service", value=_SERVICE)
            return handler(event, context)

    return invoke


class TracedGateway:
    """A gateway whose calls are X-Ray subsegments (``## gateway.<call>``) in sampled invocations, annotated with
    the outcome only: the token, the idempotency key and the amounts stay out of the trace."""

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner

    def begin_charge(self, request: ChargeRequest) -> str:
        return self._traced("begin_charge", lambda: self._inner.begin_charge(request))

    def release_charge(self, handle: str) -> None:
        self._traced("release_charge", lambda: self._inner.release_charge(handle))

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult:
        return self._traced("complete_charge", lambda: self._inner.complete_charge(handle, request))

    def refund(self, request: RefundRequest) -> GatewayResult:
        return self._traced("refund", lambda: self._inner.refund(request))

    def find_refund(self, request: RefundRequest) -> GatewayResult | None:
        return self._traced("find_refund", lambda: self._inner.find_refund(request))

    def find_outside_refund(self, handle: str, minor_units: int) -> GatewayResult | None:
        return self._traced("find_outside_refund", lambda: self._inner.find_outside_refund(handle, minor_units))

    def charge_status(self, handle: str) -> GatewayResult:
        return self._traced("charge_status", lambda: self._inner.charge_status(handle))

    def cancel_charge(self, handle: str) -> GatewayResult:
        return self._traced("cancel_charge", lambda: self._inner.cancel_charge(handle))

    def refund_status(self, transaction_id: str) -> GatewayResult:
        return self._traced("refund_status", lambda: self._inner.refund_status(transaction_id))

    @staticmethod
    def _traced(call: str, gateway_call: Callable[[], _T]) -> _T:
        """One subsegment per call in a sampled invocation; a call that answers with an outcome is annotated with
        that outcome only."""
        if not sampled():
            return gateway_call()
        with tracer.provider.in_subsegment(f"## gateway.{call}") as subsegment:
            result = gateway_call()
            if isinstance(result, GatewayResult):
                subsegment.put_annotation(key="outcome", value=result.outcome.value)
            return result
