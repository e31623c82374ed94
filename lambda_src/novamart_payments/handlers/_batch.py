"""SQS batch plumbing shared by both functions.

Powertools' BatchProcessor reports each failed record in ``batchItemFailures`` so one bad message never fails
its neighbours. A record fails (and is redelivered by SQS) when it raises; what raises is decided here:

- a contract violation is logged with its JSON pointers and fails the record. SQS redelivers it up to the
  queue's ``maxReceiveCount`` and then moves it to the DLQ, where the DLQ alarm fires and nothing is lost. It
  never had a side effect: validation runs before anything else.
- transient conditions (gateway outage, payment in flight, PutEvents refusal, AWS throttling) fail the
  record, so redelivery retries them, after a backoff the function sets on the record's message
  (``novamart_payments.retry``), never after the queue's visibility timeout.
- business outcomes (declines, duplicates, mismatches) return normally: retrying cannot change them.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from novamart_payments import clients, retry
from novamart_payments.composition import payment_gateway, service
from novamart_payments.config import get_config
from novamart_payments.contracts import ContractViolation
from novamart_payments.envelope import checked_event, identifiers
from novamart_payments.gateway import GatewayMisconfigured, IdempotencyKeyReused, TransientGatewayError
from novamart_payments.observability import Metric, count, flush, logger, traced_when_sampled
from novamart_payments.service import PaymentService, RetryLater

__all__ = ["make_handler", "payment_gateway", "service"]

# A body with 50,000 unknown keys must not become one 50,000-violation log line: the first ones and the count.
MAX_LOGGED_VIOLATIONS = 20
_RECORD_KEYS = ("correlation_id", "event_id", "detail_type", "order_id")

# The service, the checked event, and the SQS message id: the delivery's identity, which stays the same on every
# redelivery of one message (a refund's gateway lease is held by it: PaymentService.handle_refund).
Handle = Callable[[PaymentService, dict[str, Any], str], str]


_processors = threading.local()


def _processor() -> BatchProcessor:
    """This thread's processor: made once, as Powertools' docs make it at module level, but one per thread since
    a processor holds the batch it is working on (the local Lambda service invokes from several threads).

    A batch whose records all failed is still a normal answer (every item listed), not an invocation error:
    an invocation error would make SQS redeliver the whole batch, successes included.
    """
    processor: BatchProcessor | None = getattr(_processors, "processor", None)
    if processor is None:
        processor = _processors.processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return processor


def _ensure_time_left(context: Any, record: SQSRecord, *, first: bool) -> None:
    """Leave a record to redelivery rather than start it without time to finish it.

    A record whose retries outlive the invocation would be cut off mid-way and take the whole batch back to the
    queue with it. Terraform sizes batch size x ``record_budget_seconds`` below the Lambda timeout, so this never
    fires in normal operation; when it does, it is counted (metric + alarm). A deferral spends one of the
    record's receives, so a record on its last receive is run anyway: a record is never dead-lettered untried.
    The first record always runs: the Lambda timeout is sized above one record's budget.
    """
    if first or context is None:
        return
    remaining = context.get_remaining_time_in_millis() / 1000
    cfg = get_config()
    budget = cfg.record_budget_seconds
    if remaining >= budget:
        return
    receives = int(record.attributes.approximate_receive_count or "1")
    if receives >= cfg.max_receive_count:
        logger.warning(
            "short of time, but this is the record's last receive: running it rather than dead-lettering it untried",
            extra={"remaining_seconds": round(remaining, 1), "budget_seconds": budget},
        )
        return
    count(Metric.TIME_GUARD_DEFERRED)
    raise RetryLater(f"{remaining:.1f} s left in this invocation, one record may need {budget:.0f} s")


def make_handler(accepted: frozenset[str], handle: Handle) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    started = threading.local()

    def record_handler(record: SQSRecord, lambda_context: Any = None) -> str:
        # Keys of the previous record must not leak into this one's lines (a rejected record has no order id).
        logger.thread_safe_remove_keys(list(_RECORD_KEYS))
        logger.thread_safe_append_keys(message_id=record.message_id)
        try:
            _ensure_time_left(lambda_context, record, first=not getattr(started, "any", False))
            started.any = True
            clients.start_record()
            try:
                return _process(record)
            finally:
                clients.end_record()
        except Exception as failure:
            # The message comes back after its own backoff, not the queue's visibility timeout (retry.py).
            if retry.after_failure(record, failure):
                return "requeued"
            raise

    def _process(record: SQSRecord) -> str:
        try:
            event = checked_event(record.body, accepted)
        except ContractViolation as violation:
            count(Metric.VALIDATION_REJECTED)
            shown = violation.violations[:MAX_LOGGED_VIOLATIONS]
            logger.error(
                "event rejected: schema violation",
                extra={
                    "violations": [{"pointer": v.pointer, "message": v.message} for v in shown],
                    "violation_count": len(violation.violations),
                    **identifiers(record.body),
                },
            )
            raise
        metadata = event["detail"]["metadata"]
        logger.thread_safe_append_keys(
            correlation_id=metadata["correlationId"],
            event_id=metadata["eventId"],
            detail_type=event["detail-type"],
            order_id=event["detail"]["data"]["orderId"],
        )
        try:
            outcome = handle(service(), event, record.message_id)
        except TransientGatewayError:
            count(Metric.TRANSIENT_RETRY)
            logger.warning("gateway unavailable; the message will be redelivered")
            raise
        except GatewayMisconfigured as err:
            # Our key is wrong or unreadable: the customer did nothing wrong, so nothing is published; the record
            # fails (redelivery, then the DLQ) and the GatewayAuthError alarm calls an operator.
            count(Metric.GATEWAY_AUTH_ERROR)
            logger.error("gateway refused our credentials; the message will be redelivered", extra={"why": str(err)})
            raise
        except IdempotencyKeyReused as err:
            # Retrying cannot change this answer: acknowledge the message, leave the record PENDING for
            # reconciliation, and let the GatewayIdempotencyError alarm call an operator.
            count(Metric.GATEWAY_IDEMPOTENCY_ERROR)
            logger.error("gateway refused the idempotency key; not retried", extra={"why": str(err)})
            return "idempotency_conflict"
        except RetryLater as later:
            logger.info("not finished yet; the message will be redelivered", extra={"why": str(later)})
            raise
        except Exception:
            # Anything else (AWS errors, PutEvents refusals, bugs) is logged with its traceback, then left to
            # SQS: redelivery up to maxReceiveCount, then the DLQ and its alarm.
            logger.exception("record failed; the message will be redelivered")
            raise
        logger.info("event processed", extra={"outcome": outcome})
        return outcome

    # Powertools reads the record handler's signature on every batch (does it take ``lambda_context``?); stating
    # it once spares ``inspect`` rebuilding it, a twentieth of the handler's own CPU per event.
    record_handler.__signature__ = inspect.signature(record_handler)  # type: ignore[attr-defined]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        get_config()  # fail the cold start, naming the variable, before touching any record
        logger.thread_safe_append_keys(function_request_id=getattr(context, "aws_request_id", None))
        started.any = False
        try:
            return dict(process_partial_response(event, record_handler, _processor(), context))
        finally:
            logger.thread_safe_clear_keys()
            flush()

    # The batch's answer holds message ids only; it is not worth a trace's metadata.
    return traced_when_sampled(handler)
