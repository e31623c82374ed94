"""The payment service: the application every handler drives, built by the composition root (``composition.py``).

It is its flows, one module each, over the ports (``ports.py``, ``gateway.PaymentGateway``), never the concrete
adapters, so its decisions can be tested without an AWS SDK:

- ``payment_flow``: a payment trigger, claimed, risk-checked, charged once, settled and published;
- ``refund_flow``: a refund trigger, reserved under the capture, refunded once under its lease, settled;
- ``settlement`` and ``radar``: the gateway's notifications (webhooks), settled from the gateway's truth, disputes
  published, fraud refunded once;
- ``reconciliation``: the scheduled pass that finishes what nothing else will.

Exceptions that should make SQS redeliver the message (gateway outage, payment still in flight, EventBridge
refusal) propagate; everything final returns normally so the message is deleted.
"""

from __future__ import annotations

from novamart_payments.payment_flow import REFUND_LEASE, RetryLater, charge_request
from novamart_payments.reconciliation import Reconciliation
from novamart_payments.settlement import NoticeSettlement

__all__ = ["REFUND_LEASE", "PaymentService", "RetryLater", "charge_request"]


class PaymentService(NoticeSettlement, Reconciliation):
    """Every flow of the service, over one set of ports (see the module's docstring)."""
