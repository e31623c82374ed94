"""The one place the fakes, the port contract suite and the decision tests import lambda_src's concrete classes from.

Why one place: the service is being split into ports (Protocols) and adapters; when a class moves, this file is the
one edit that repoints the fakes (tests/support/memory_*.py, counting_gateway.py), the contract suite
(tests/ports) and the decision tests (tests/decisions). The pure domain (``novamart_payments.domain``,
``failure_codes``, ``timestamps``) is imported where it is used.
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
from novamart_payments.ports import (
    ChargeNotice,
    EventPublisher,
    FraudWarningNotice,
    Lease,
    Notice,
    NoticeBusy,
    PaymentRepository,
    RefundNotice,
    WriteResult,
)
from novamart_payments.publisher import PublishError
from novamart_payments.reconciliation import Ages
from novamart_payments.repository import Repository
from novamart_payments.service import REFUND_LEASE, PaymentService, RetryLater, charge_request


def settle(service: PaymentService, notice: Notice) -> str:
    return service.settle_notice(notice)


def settle_fraud_notice(service: PaymentService, notice: FraudWarningNotice, policy: str = "") -> str:
    return service.settle_fraud_notice(notice, policy)


#: The DynamoDB adapter of the repository port, which tests/ports runs the shared contract against.
DynamoRepository = Repository

__all__ = [
    "REFUND_LEASE",
    "Ages",
    "ChargeNotice",
    "ChargeRequest",
    "DynamoRepository",
    "EventPublisher",
    "FraudWarningNotice",
    "GatewayRateLimited",
    "GatewayResult",
    "Lease",
    "NoticeBusy",
    "Outcome",
    "PaymentGateway",
    "PaymentRepository",
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
    "settle",
    "settle_fraud_notice",
    "validate_event",
]
