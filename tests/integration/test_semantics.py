"""The nine payment semantics, each a test that fails when the property breaks.

Handlers run in-process against a moto server; money movements are counted on the simulated gateway's ledger,
which is the one place a double charge would show.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from novamart_payments.contracts import validate_event
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.integration.conftest import (
    Aws,
    Context,
    charges,
    invoke,
    new_order,
    payment_event,
    refund_event,
    refunds,
    sqs_batch,
)


class Crash(BaseException):
    """Stands for the Lambda process dying mid-invocation: not an Exception, so nothing in the handler can
    catch it and turn it into a clean batch failure."""


def crash_once(obj: Any, name: str, monkeypatch: pytest.MonkeyPatch, after: bool = False) -> None:
    """Make ``obj.name`` crash on its next call, before (default) or after doing its work."""
    real = getattr(obj, name)
    state = {"armed": True}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["armed"]:
            state["armed"] = False
            if after:
                real(*args, **kwargs)
            raise Crash(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, wrapper)


def outcome_ids(aws: Aws, order_id: str, detail_type: str) -> list[str]:
    return [e["detail"]["metadata"]["eventId"] for e in aws.published(order_id) if e["detail-type"] == detail_type]


# 1. At most one charge per order --------------------------------------------------------------------------


def test_redelivered_trigger_charges_once(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    for _ in range(3):
        assert invoke(payment_handler, event) == []
    assert len(charges(order)) == 1
    assert len(set(outcome_ids(aws, order, "payment.succeeded"))) == 1


def test_sixteen_concurrent_deliveries_charge_once(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    barrier = threading.Barrier(16)
    failures: list[list[str]] = []

    def deliver() -> None:
        barrier.wait()
        failures.append(invoke(payment_handler, event))

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(charges(order)) == 1
    assert all(f == [] for f in failures), failures
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "SUCCEEDED"
    assert len(set(outcome_ids(aws, order, "payment.succeeded"))) == 1


def test_both_payment_triggers_for_one_order_charge_once(aws: Aws) -> None:
    order = new_order()
    reserved = payment_event(order, detail_type="inventory.reserved")
    ready = payment_event(order, detail_type="order.ready_for_payment")
    assert invoke(payment_handler, reserved, ready) == []
    assert len(charges(order)) == 1
    assert len(aws.payment_items(order)) == 1


# 2. Decline -----------------------------------------------------------------------------------------------


def test_decline_publishes_failure_and_is_not_retried(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token="pm_card_chargeDeclinedInsufficientFunds")) == []
    assert charges(order) == []
    [failed] = [e for e in aws.published(order) if e["detail-type"] == "payment.failed"]
    assert failed["detail"]["data"]["code"] == "insufficient_funds"
    assert failed["detail"]["data"]["reason"]
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "FAILED"


def test_three_d_secure_is_a_failure_with_its_own_code(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token="pm_card_threeDSecure2Required")) == []
    [failed] = [e for e in aws.published(order) if e["detail-type"] == "payment.failed"]
    assert failed["detail"]["data"]["code"] == "authentication_required"


# 3. Transient gateway error -------------------------------------------------------------------------------


def test_transient_gateway_error_is_retried_and_charges_once(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order, token="pm_sim_transient2_visa")
    assert len(invoke(payment_handler, event)) == 1  # first outage: redelivery requested
    assert len(invoke(payment_handler, event)) == 1  # second outage
    assert aws.payment_items(order)[0]["status"]["S"] == "PENDING"
    assert invoke(payment_handler, event) == []
    assert len(charges(order)) == 1
    assert aws.payment_items(order)[0]["status"]["S"] == "SUCCEEDED"
    assert len(set(outcome_ids(aws, order, "payment.succeeded"))) == 1


def test_one_bad_message_never_fails_its_neighbours(aws: Aws) -> None:
    good, flaky = new_order(), new_order()
    failed = invoke(payment_handler, payment_event(good), payment_event(flaky, token="pm_sim_transient1_visa"))
    assert len(failed) == 1
    assert len(charges(good)) == 1


def test_record_is_not_started_without_time_to_finish_it(aws: Aws) -> None:
    first, second = new_order(), new_order()

    class ShortContext(Context):
        def get_remaining_time_in_millis(self) -> int:
            return 5_000  # far below one record's worst-case budget

    batch = sqs_batch(payment_event(first), payment_event(second))
    result = payment_handler(batch, ShortContext())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [batch["Records"][1]["messageId"]]
    assert len(charges(first)) == 1  # the first record always runs
    assert charges(second) == [] and aws.payment_items(second) == []  # left untouched for redelivery


# 4. Refunds -----------------------------------------------------------------------------------------------


def paid_order(aws: Aws, minor_units: int = 10_000, currency: str = "USD") -> str:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units=minor_units, currency=currency)) == []
    assert len(charges(order)) == 1
    return order


def test_full_refund_refunds_the_remaining_amount(aws: Aws) -> None:
    order = paid_order(aws)
    assert invoke(refund_handler, refund_event(order, 2500, request_id="r1")) == []
    assert invoke(refund_handler, refund_event(order)) == []
    assert [r.amount.minor_units for r in refunds(order)] == [2500, 7500]
    succeeded = [e for e in aws.published(order) if e["detail-type"] == "refund.succeeded"]
    assert sorted(e["detail"]["data"]["amount"]["minorUnits"] for e in succeeded) == [2500, 7500]


def test_partial_refund_over_the_ceiling_is_refused(aws: Aws) -> None:
    order = paid_order(aws)
    assert invoke(refund_handler, refund_event(order, 6000, request_id="a")) == []
    assert invoke(refund_handler, refund_event(order, 6000, request_id="b")) == []
    assert sum(r.amount.minor_units for r in refunds(order)) == 6000
    [refused] = [e for e in aws.published(order) if e["detail-type"] == "refund.failed"]
    assert refused["detail"]["data"]["code"] == "exceeds_refundable"
    # refund.failed 2.0: the refused request's amount, the customer and the refund's own reason travel along
    assert refused["detail"]["data"]["amount"] == {"minorUnits": 6000, "currency": "USD"}
    assert refused["detail"]["data"]["customerId"] == "cus-1001"
    assert refused["detail"]["data"]["refundReason"] == "customer cancelled"


def test_concurrent_partial_refunds_never_exceed_the_capture(aws: Aws) -> None:
    order = paid_order(aws)
    barrier = threading.Barrier(8)

    def deliver(i: int) -> None:
        barrier.wait()
        invoke(refund_handler, refund_event(order, 3000, request_id=f"req-{i}"))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(r.amount.minor_units for r in refunds(order))
    assert total == 9000  # three of 3000 fit into 10000, a fourth never does
    [payment] = aws.payment_items(order)
    assert int(payment["refundedAmount"]["N"]) == 9000


def test_both_refund_triggers_for_one_order_make_one_refund(aws: Aws) -> None:
    order = paid_order(aws)
    cancelled = refund_event(order, detail_type="order.cancelled")
    failed = refund_event(order, detail_type="inventory.reservation_failed")
    assert invoke(refund_handler, cancelled) == []
    assert invoke(refund_handler, failed) == []
    assert len(refunds(order)) == 1
    assert len(aws.refund_items(order)) == 1


def test_refund_in_another_currency_is_refused(aws: Aws) -> None:
    order = paid_order(aws)
    assert invoke(refund_handler, refund_event(order, 100, currency="EUR", request_id="x")) == []
    assert refunds(order) == []
    [refused] = [e for e in aws.published(order) if e["detail-type"] == "refund.failed"]
    assert refused["detail"]["data"]["code"] == "currency_mismatch"


# 5. Cancel before pay -------------------------------------------------------------------------------------


def test_cancel_before_pay_blocks_the_later_charge(aws: Aws) -> None:
    order = new_order()
    assert invoke(refund_handler, refund_event(order)) == []
    assert invoke(payment_handler, payment_event(order)) == []
    assert charges(order) == []
    kinds = {e["detail-type"]: e["detail"]["data"] for e in aws.published(order)}
    assert kinds["refund.failed"]["code"] == "no_payment"
    assert "paymentId" not in kinds["refund.failed"]  # the cancel marker is not a payment
    assert kinds["payment.failed"]["code"] == "order_cancelled"
    assert kinds["payment.failed"]["amount"] == {"minorUnits": 4999, "currency": "USD"}


# 6. Refund of a declined payment --------------------------------------------------------------------------


def test_refund_of_declined_payment_refunds_nothing(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token="pm_card_chargeDeclined")) == []
    assert invoke(refund_handler, refund_event(order)) == []
    assert refunds(order) == []
    [refused] = [e for e in aws.published(order) if e["detail-type"] == "refund.failed"]
    assert refused["detail"]["data"]["code"] == "payment_not_captured"


# 7. Crashes -----------------------------------------------------------------------------------------------


def test_crash_after_charge_before_record_does_not_charge_again(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = new_order()
    event = payment_event(order)
    crash_once(svc._publisher, "publish", monkeypatch)  # charged; neither published nor recorded as final
    with pytest.raises(Crash):
        invoke(payment_handler, event)
    assert len(charges(order)) == 1
    assert aws.payment_items(order)[0]["status"]["S"] == "PENDING"
    assert invoke(payment_handler, event) == []  # SQS redelivers after the visibility timeout
    assert len(charges(order)) == 1
    assert aws.payment_items(order)[0]["status"]["S"] == "SUCCEEDED"
    assert len(outcome_ids(aws, order, "payment.succeeded")) == 1


def test_crash_after_record_before_publish_still_publishes(aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    order = new_order()
    event = payment_event(order)
    crash_once(svc._publisher, "publish", monkeypatch)
    with pytest.raises(Crash):
        invoke(payment_handler, event)
    assert outcome_ids(aws, order, "payment.succeeded") == []
    assert invoke(payment_handler, event) == []
    assert len(outcome_ids(aws, order, "payment.succeeded")) == 1
    assert len(charges(order)) == 1


def test_duplicate_publishes_carry_the_same_event_id(aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    order = new_order()
    event = payment_event(order)
    crash_once(svc._repo, "finish_payment", monkeypatch)  # published, then died before the final write
    with pytest.raises(Crash):
        invoke(payment_handler, event)
    assert invoke(payment_handler, event) == []
    ids = outcome_ids(aws, order, "payment.succeeded")
    assert len(ids) == 2 and len(set(ids)) == 1
    assert invoke(payment_handler, event) == []  # now noted as published: no third copy
    assert len(outcome_ids(aws, order, "payment.succeeded")) == 2


def test_putevents_failed_entries_are_retried_not_ignored(aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    order = new_order()
    event = payment_event(order)
    real_client = svc._publisher._client
    calls = {"n": 0}

    class RefusingEvents:
        def put_events(self, **kwargs: Any) -> dict[str, Any]:
            calls["n"] += 1
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}]}

    monkeypatch.setattr(svc._publisher, "_client", RefusingEvents())
    assert len(invoke(payment_handler, event)) == 1  # refused entry -> batch item failure -> redelivery
    assert calls["n"] == 1
    assert aws.payment_items(order)[0]["status"]["S"] == "PENDING"
    monkeypatch.setattr(svc._publisher, "_client", real_client)
    assert invoke(payment_handler, event) == []
    assert len(outcome_ids(aws, order, "payment.succeeded")) == 1
    assert len(charges(order)) == 1


# 8. Schema-invalid events ---------------------------------------------------------------------------------


def test_invalid_event_has_no_side_effect_and_is_logged_with_pointers(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    order = new_order()
    event = payment_event(order, token="pm_card_visa")
    event["detail"]["data"]["cardNumber"] = "4242424242424242"
    event["detail"]["data"]["amount"]["minorUnits"] = 0
    failed = invoke(payment_handler, event)
    assert len(failed) == 1  # not acknowledged: SQS retries it up to maxReceiveCount, then parks it in the DLQ
    assert aws.payment_items(order) == []
    assert charges(order) == []
    assert aws.published(order) == []
    [rejection] = [r for r in caplog.records if r.getMessage() == "event rejected: schema violation"]
    pointers = {v["pointer"] for v in rejection.violations}
    assert "/detail/data/amount/minorUnits" in pointers
    assert any(p.startswith("/detail/data") for p in pointers - {"/detail/data/amount/minorUnits"})
    logs = caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert "4242424242424242" not in logs
    assert "pm_card_visa" not in logs


def test_message_that_is_not_json_is_rejected(aws: Aws) -> None:
    assert len(invoke(payment_handler, "{not json")) == 1


def test_event_for_the_other_function_is_rejected(aws: Aws) -> None:
    order = new_order()
    assert len(invoke(refund_handler, payment_event(order))) == 1
    assert aws.refund_items(order) == [] and aws.payment_items(order) == []


# 9. Duplicate with a different amount ---------------------------------------------------------------------


def test_duplicate_with_different_amount_is_rejected(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units=1000)) == []
    assert invoke(payment_handler, payment_event(order, minor_units=9000)) == []
    [charge] = charges(order)
    assert charge.amount.minor_units == 1000
    [item] = aws.payment_items(order)
    assert item["amount"]["N"] == "1000"
    assert len(aws.published(order)) == 1


def test_mismatch_while_first_payment_is_pending_charges_nothing_more(aws: Aws) -> None:
    order = new_order()
    assert len(invoke(payment_handler, payment_event(order, minor_units=1000, token="pm_sim_transient1_visa"))) == 1
    assert invoke(payment_handler, payment_event(order, minor_units=2000)) == []
    assert charges(order) == []


# Across all: every published event honours its schema, and no token reaches the logs --------------------


def test_refund_crash_before_final_write_republishes_the_same_event(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = paid_order(aws)
    event = refund_event(order)
    crash_once(svc._repo, "finish_refund", monkeypatch)
    with pytest.raises(Crash):
        invoke(refund_handler, event)
    assert invoke(refund_handler, event) == []
    ids = outcome_ids(aws, order, "refund.succeeded")
    assert len(ids) == 2 and len(set(ids)) == 1
    first, second = (e["detail"] for e in aws.published(order) if e["detail-type"] == "refund.succeeded")
    assert first == second  # identical content, not only the same id
    assert len(refunds(order)) == 1
    assert aws.refund_items(order)[0]["status"]["S"] == "SUCCEEDED"


def test_published_events_conform_and_logs_hold_no_token(aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    order = paid_order(aws)
    invoke(refund_handler, refund_event(order, 100, request_id="p"))
    for event in aws.published(order):
        validate_event(event)
    logs = json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert "event processed" in logs  # the capture really sees the handler's log lines
    assert "pm_card" not in logs and "pm_sim" not in logs
