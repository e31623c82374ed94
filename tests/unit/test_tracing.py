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
    def __init__(self, *, disabled: bool = False) -> None:
        self.provider = FakeProvider()
        self.disabled = disabled


SAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
UNSAMPLED = SAMPLED.replace("Sampled=1", "Sampled=0")


def _charge_and_refund(traced: observability.TracedGateway) -> None:
    ok = ChargeRequest("pay:ord-t", "ord-t", "p-t", "cus-1", "corr", Money(1000, "USD"), "pm_card_visa")
    handle = traced.begin_charge(ok)
    traced.complete_charge(handle, ok)
    refund = RefundRequest("refund:ord-t", "ord-t", "r-t", handle, Money(500, "USD"))
    traced.find_refund(refund)
    traced.refund(refund)
    declined = ChargeRequest("pay:ord-d", "ord-d", "p-d", "cus-1", "corr", Money(1000, "USD"), "pm_card_chargeDeclined")
    traced.complete_charge(traced.begin_charge(declined), declined)
    traced.release_charge("pi_sim_unused")


def test_the_tracer_patches_botocore_so_dynamodb_and_eventbridge_calls_are_subsegments() -> None:
    assert "botocore" in observability.tracer._config["patch_modules"]


def test_gateway_calls_are_subsegments_annotated_with_the_outcome_only(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTracer()
    monkeypatch.setattr(observability, "tracer", fake)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)
    _charge_and_refund(observability.TracedGateway(SimulatedGateway()))
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


@pytest.mark.parametrize(
    ("disabled", "header"),
    [(False, UNSAMPLED), (False, None), (True, SAMPLED)],
    ids=["unsampled-invocation", "no-trace-header", "tracing-disabled"],
)
def test_no_subsegment_is_built_when_nothing_would_be_sent(
    monkeypatch: pytest.MonkeyPatch, disabled: bool, header: str | None
) -> None:
    # The X-Ray SDK would build dummy subsegments here, at a third of the handler's own CPU per event, and send none.
    fake = FakeTracer(disabled=disabled)
    monkeypatch.setattr(observability, "tracer", fake)
    if header is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    _charge_and_refund(observability.TracedGateway(SimulatedGateway()))
    assert fake.provider.subsegments == []


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


@pytest.fixture
def xray(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The real X-Ray SDK, enabled, with a sampled segment open (as the Lambda runtime's facade segment is), in a
    fresh process (the cold-start flag set); the SDK is disabled again afterwards, as it is outside Lambda."""
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import xray_recorder

    monkeypatch.setattr(observability.tracer, "disabled", False)
    monkeypatch.setattr(observability, "_cold", [True])
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    segment = xray_recorder.begin_segment("novamart-payment-webhooks", sampling=1)
    try:
        yield segment
    finally:
        xray_recorder.end_segment()
        xray_recorder.clear_trace_entities()
        global_sdk_config.set_sdk_enabled(was_enabled)


def handler(event: Any, context: Any) -> Any:
    if event == "boom":
        raise RuntimeError("boom")
    return {"echo": event}


def test_the_handler_subsegment_is_made_only_for_a_sampled_invocation(
    xray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    traced = observability.traced_when_sampled(handler)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", UNSAMPLED)
    assert traced(1, None) == {"echo": 1}
    assert xray.subsegments == []
    # The first invocation was the cold start, sampled or not: a later sampled one must not say ColdStart=true.
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)
    assert traced(2, None) == {"echo": 2}
    assert [(s.name, s.annotations) for s in xray.subsegments] == [
        ("## handler", {"ColdStart": False, "Service": observability.tracer.service})
    ]


def test_a_sampled_first_invocation_is_annotated_as_the_cold_start(xray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)
    traced = observability.traced_when_sampled(handler)
    traced(1, None)
    with pytest.raises(RuntimeError):
        traced("boom", None)
    assert [s.annotations["ColdStart"] for s in xray.subsegments] == [True, False]
    assert xray.subsegments[1].fault or xray.subsegments[1].error, "the raised exception is on the subsegment"
