"""X-Ray: every AWS call and every gateway call is a subsegment, and no token or key reaches a trace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from novamart_payments import observability
from novamart_payments.domain import Money
from novamart_payments.gateway import ChargeRequest, RefundRequest
from novamart_payments.gateway.simulated import SimulatedGateway
from novamart_payments.handlers import _batch


class FakeSubsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value


class FakeProvider:
    def __init__(self) -> None:
        self.subsegments: list[FakeSubsegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str) -> Iterator[FakeSubsegment]:
        sub = FakeSubsegment(name)
        self.subsegments.append(sub)
        yield sub


class FakeTracer:
    def __init__(self) -> None:
        self.provider = FakeProvider()


def test_the_tracer_patches_botocore_so_dynamodb_and_eventbridge_calls_are_subsegments() -> None:
    assert "botocore" in observability.tracer._config["patch_modules"]


def test_gateway_calls_are_subsegments_annotated_with_the_outcome_only(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTracer()
    monkeypatch.setattr(observability, "tracer", fake)
    traced = observability.TracedGateway(SimulatedGateway())
    ok = ChargeRequest("pay:ord-t", "ord-t", "p-t", "cus-1", "corr", Money(1000, "USD"), "pm_card_visa")
    handle = traced.begin_charge(ok)
    traced.complete_charge(handle, ok)
    refund = RefundRequest("refund:ord-t", "ord-t", "r-t", handle, Money(500, "USD"))
    traced.find_refund(refund)
    traced.refund(refund)
    declined = ChargeRequest("pay:ord-d", "ord-d", "p-d", "cus-1", "corr", Money(1000, "USD"), "pm_card_chargeDeclined")
    traced.complete_charge(traced.begin_charge(declined), declined)
    traced.release_charge("pi_sim_unused")
    seen = [(s.name, s.annotations) for s in fake.provider.subsegments]
    assert seen == [
        ("## gateway.begin_charge", {}),
        ("## gateway.complete_charge", {"outcome": "approved"}),
        ("## gateway.find_refund", {}),
        ("## gateway.refund", {"outcome": "approved"}),
        ("## gateway.begin_charge", {}),
        ("## gateway.complete_charge", {"outcome": "declined"}),
        ("## gateway.release_charge", {}),
    ]
    assert "pm_card" not in repr(seen) and "pay:" not in repr(seen)


def test_the_handlers_service_uses_the_traced_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PAYMENT_TABLE_NAME": "payments",
        "REFUND_TABLE_NAME": "refunds",
        "AWS_REGION": "us-east-2",
    }.items():
        monkeypatch.setenv(name, value)
    _batch.service.cache_clear()
    _batch.get_config.cache_clear()
    try:
        assert isinstance(_batch.service()._gateway, observability.TracedGateway)
    finally:
        _batch.service.cache_clear()
        _batch.get_config.cache_clear()
