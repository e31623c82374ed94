"""Tracing for the functions, with the log and metrics helpers of ``telemetry.py`` for the handlers.

Tracer patches botocore, so every DynamoDB and EventBridge call is an X-Ray subsegment, and ``TracedGateway``
adds one per gateway call (the functions run with Active tracing; outside Lambda the tracer is off by itself).
Constructed once per process, at import: only the handlers and the composition root import this module (the
X-Ray SDK builds a botocore client at import outside Lambda), the core logs and counts through ``telemetry``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Tracer

from novamart_payments.gateway import ChargeRequest, GatewayResult, PaymentGateway, RefundRequest
from novamart_payments.telemetry import SERVICE_NAME, Metric, count, flush, gauge_seconds, logger, metrics, published

__all__ = ["Metric", "TracedGateway", "count", "flush", "gauge_seconds", "logger", "metrics", "published", "tracer"]

tracer = Tracer(service=SERVICE_NAME, patch_modules=["botocore"])
_lock = threading.Lock()
_T = TypeVar("_T")


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
            subsegment.put_annotation(key="Service", value=SERVICE_NAME)
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
