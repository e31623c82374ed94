"""The one place the fakes, the port contract suite and the decision tests import lambda_src's concrete classes from.

Why one place: the service is being split into ports (Protocols) and adapters; when a class moves, this file is the
one edit that repoints the fakes (tests/support/memory_*.py, counting_gateway.py), the contract suite
(tests/ports) and the decision tests (tests/decisions). The pure domain (``novamart_payments.domain``,
``outcomes``, ``timestamps``) is imported where it is used.
"""

from __future__ import annotations

from novamart_payments.contracts import validate_event
from novamart_payments.gateway import (
    ChargeRequest,
    GatewayRateLimited,
    GatewayResult,
    Outcome,
    PaymentGateway,
    RefundRequest,
    TransientGatewayError,
)
from novamart_payments.gateway.simulated import SimulatedGateway
from novamart_payments.majors import editions
from novamart_payments.notices import ChargeNotice, FraudWarningNotice, NoticeBusy, RefundNotice, settle
from novamart_payments.publisher import PublishError
from novamart_payments.radar import settle_fraud_notice
from novamart_payments.reconciliation import Ages, reconcile
from novamart_payments.repository import Lease, Repository, WriteResult
from novamart_payments.service import REFUND_LEASE, PaymentService, RetryLater, charge_request

#: The DynamoDB adapter of the repository port, which tests/ports runs the shared contract against.
DynamoRepository = Repository

__all__ = [
    "REFUND_LEASE",
    "Ages",
    "ChargeNotice",
    "ChargeRequest",
    "DynamoRepository",
    "FraudWarningNotice",
    "GatewayRateLimited",
    "GatewayResult",
    "Lease",
    "NoticeBusy",
    "Outcome",
    "PaymentGateway",
    "PaymentService",
    "PublishError",
    "RefundNotice",
    "RefundRequest",
    "RetryLater",
    "SimulatedGateway",
    "TransientGatewayError",
    "WriteResult",
    "charge_request",
    "editions",
    "reconcile",
    "settle",
    "settle_fraud_notice",
    "validate_event",
]
