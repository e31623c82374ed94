"""Orders, triggers and moments for the port contract suite (tests/ports) and the decision tests (tests/decisions).

Triggers are built as the envelope builds them from a checked event, without the event: these suites test what the
service and the repository decide, not parsing (tests/unit and tests/integration cover that).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from novamart_payments.domain import Money, PaymentTrigger, RefundTrigger, TriggerMeta
from novamart_payments.timestamps import plus

#: The moment the contract suite's writes are dated from (its timestamps are fixed strings, so both
#: implementations of the port see the same ones).
T0 = "2026-12-03T07:00:00.000Z"


def at(seconds: float) -> str:
    """``T0`` plus ``seconds``, in the tables' spelling."""
    return plus(T0, timedelta(seconds=seconds))


def new_order() -> str:
    return f"ord-{uuid.uuid4()}"  # never a card-shaped digit run; unique, since the moto tables live all session


def payment_trigger(
    order_id: str,
    *,
    event_id: str | None = None,
    minor_units: int = 4999,
    currency: str = "USD",
    customer: str = "cus-1001",
    token: str = "pm_card_visa",
) -> PaymentTrigger:
    """A payment trigger; each call is a new event (its own ``eventId``) unless ``event_id`` names one."""
    return PaymentTrigger(
        order_id=order_id,
        customer_id=customer,
        amount=Money(minor_units, currency),
        token=token,
        meta=TriggerMeta(event_id or str(uuid.uuid4()), f"corr-{order_id[-12:]}", None),
    )


def refund_trigger(
    order_id: str,
    *,
    minor_units: int | None = None,
    currency: str = "USD",
    request_id: str | None = None,
    event_id: str | None = None,
    reason: str = "customer cancelled",
) -> RefundTrigger:
    """A refund trigger: a full refund of the order, or a partial one (``minor_units``) under ``request_id``."""
    return RefundTrigger(
        order_id=order_id,
        reason=reason,
        amount=Money(minor_units, currency) if minor_units is not None else None,
        meta=TriggerMeta(event_id or str(uuid.uuid4()), f"corr-{order_id[-12:]}", request_id),
    )
