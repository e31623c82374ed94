"""Refund function: ``inventory.reservation_failed`` and ``order.cancelled`` refund an order."""

from __future__ import annotations

from novamart_payments.envelope import REFUND_TRIGGERS, refund_trigger
from novamart_payments.handlers._batch import make_handler

handler = make_handler(
    REFUND_TRIGGERS, lambda svc, event, message: svc.handle_refund(refund_trigger(event), delivery=message)
)
