"""Reconciliation function (``novamart-payment-reconciler``), run by an EventBridge schedule every 5 minutes
and by ``make reconcile`` on demand. The pass itself is ``novamart_payments.reconciliation``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from novamart_payments.composition import service
from novamart_payments.config import get_config
from novamart_payments.observability import flush, logger, traced_when_sampled
from novamart_payments.reconciliation import Ages


@traced_when_sampled
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cfg = get_config()
    logger.thread_safe_append_keys(function_request_id=getattr(context, "aws_request_id", None))
    try:
        ages = Ages(
            pending_after=timedelta(seconds=cfg.reconcile_pending_after_seconds),
            action_after=timedelta(seconds=cfg.reconcile_action_after_seconds),
        )
        return service().reconcile(ages)
    finally:
        logger.thread_safe_clear_keys()
        flush()
