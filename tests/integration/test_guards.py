"""Guards that only a deterministic test can prove: each would survive a happy-path suite if it were removed.

``make mutants`` (tools/mutants.py) removes each guard in a copy of the code and expects a test here, or in
test_semantics.py, to go red on every run.
"""

from __future__ import annotations

from typing import Any

import pytest
from novamart_payments import config, domain
from novamart_payments.contracts import ContractViolation
from novamart_payments.handlers import _batch
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.publisher import Publisher
from novamart_payments.repository import Repository

from tests.support.handler_calls import Context, invoke
from tests.support.integration_aws import PAYMENTS, REFUNDS, Aws
from tests.support.stripe_movements import charges, refunds, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.sqs_records import sqs_batch


def test_outbound_events_are_validated_before_they_leave(aws: Aws) -> None:
    sent: list[Any] = []

    class Bus:
        def put_events(self, **kwargs: Any) -> dict[str, Any]:
            sent.append(kwargs)
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"}]}

    event = {
        "source": "novamart.payments",
        "detail-type": "payment.succeeded",
        "detail": {"metadata": {"eventId": "not-a-uuid"}, "data": {"orderId": "o"}},
    }
    with pytest.raises(ContractViolation):
        Publisher("default", client=Bus()).publish(event)  # type: ignore[arg-type]
    assert sent == []


def test_a_declined_refund_gives_its_reserved_amount_back(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units=10_000)) == []
    stripe_stack().faults.fail_next(
        "POST", r"/v1/refunds$", status=400, error_type="invalid_request_error", error_code="charge_disputed"
    )
    assert invoke(refund_handler, refund_event(order, 4000, request_id="declined")) == []
    [refused] = [e for e in aws.published(order) if e["detail-type"] == "refund.failed"]
    assert refused["detail"]["data"]["code"] == "charge_disputed"
    [payment] = aws.payment_items(order)
    assert payment["refundedAmount"]["N"] == "0"  # the reservation was released
    assert invoke(refund_handler, refund_event(order)) == []  # so the whole capture is still refundable
    assert refunds(order) == [10_000]


def test_the_final_write_only_finishes_a_pending_payment(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order)) == []
    repo = Repository(PAYMENTS, REFUNDS)
    done = repo.get_payment(domain.payment_id_for(order))
    assert done is not None and done.status is domain.Status.SUCCEEDED
    late = repo.finish_payment(
        domain.PaymentRecord(
            done.payment_id, order, domain.Status.FAILED, done.customer_id, done.amount, failure_code="card_declined"
        ),
        "2026-11-26T12:00:00.000Z",
    )
    assert not late.won
    after = repo.get_payment(done.payment_id)
    assert after is not None and after.status is domain.Status.SUCCEEDED and after.failure_code is None
    assert charges(order) == [4999]


def test_a_missing_setting_fails_the_cold_start_before_any_record(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYMENT_TABLE_NAME")
    config.get_config.cache_clear()
    _batch.service.cache_clear()
    try:
        with pytest.raises(config.ConfigError, match="PAYMENT_TABLE_NAME"):
            payment_handler(sqs_batch("{not json"), Context())  # a record that would fail on its own
    finally:
        monkeypatch.undo()
        config.get_config.cache_clear()
        _batch.service.cache_clear()
