"""The nine payment semantics, each a test that fails when the property breaks.

Handlers run in-process against a moto server and the production Stripe adapter against localstripe, which
protects nothing (it ignores idempotency keys and caps no refund): money movements are counted per order at the
gateway, the one place a double charge would show, so every guarantee here is the service's own.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from novamart_payments import domain
from novamart_payments.contracts import validate_event
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.support.handler_calls import Context, invoke
from tests.support.integration_aws import Aws
from tests.support.stripe_movements import card, charges, refunds, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.sqs_records import sqs_batch


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


def after_lease(svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Move the service's clock past any refund lease, as SQS's visibility timeout does for a real redelivery."""
    monkeypatch.setattr(svc, "_now", lambda: "2099-01-01T00:00:00.000Z")


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
    assert invoke(payment_handler, payment_event(order, token=card("declined"))) == []
    assert charges(order) == []
    [failed] = [e for e in aws.published(order) if e["detail-type"] == "payment.failed"]
    assert failed["detail"]["data"]["code"] == "card_declined"
    assert failed["detail"]["data"]["reason"]
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "FAILED"


def test_three_d_secure_waits_for_the_customer_and_publishes_no_outcome_yet(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token=card("three_d_secure"))) == []
    assert [e["detail-type"] for e in aws.published(order)] == ["payment.action_required"]
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "REQUIRES_ACTION" and charges(order) == []


# 3. Transient gateway error -------------------------------------------------------------------------------


CONFIRM = r"/v1/payment_intents/[^/]+/confirm$"


def test_transient_gateway_error_is_retried_and_charges_once(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    stripe_stack().faults.fail_next("POST", CONFIRM, times=2, status=503)
    assert len(invoke(payment_handler, event)) == 1  # first outage: redelivery requested
    assert len(invoke(payment_handler, event)) == 1  # second outage
    assert aws.payment_items(order)[0]["status"]["S"] == "PENDING"
    assert invoke(payment_handler, event) == []
    assert len(charges(order)) == 1
    assert aws.payment_items(order)[0]["status"]["S"] == "SUCCEEDED"
    assert len(set(outcome_ids(aws, order, "payment.succeeded"))) == 1


def test_dropped_connection_on_create_is_retried_and_charges_once(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    stripe_stack().faults.fail_next("POST", r"/v1/payment_intents$", status=0)
    assert len(invoke(payment_handler, event)) == 1
    [item] = aws.payment_items(order)  # claimed before the gateway: a PENDING record, no attempt stored yet
    assert item["status"]["S"] == "PENDING" and "intentId" not in item
    assert invoke(payment_handler, event) == []
    assert charges(order) == [4999]


def test_one_bad_message_never_fails_its_neighbours(aws: Aws) -> None:
    good, flaky = new_order(), new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, status=503)  # the batch's first record meets the outage
    batch = sqs_batch(payment_event(flaky), payment_event(good))
    result = payment_handler(batch, Context())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [batch["Records"][0]["messageId"]]
    assert len(charges(good)) == 1 and charges(flaky) == []


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
    assert refunds(order) == [2500, 7500]
    succeeded = [e for e in aws.published(order) if e["detail-type"] == "refund.succeeded"]
    assert sorted(e["detail"]["data"]["amount"]["minorUnits"] for e in succeeded) == [2500, 7500]


def test_partial_refund_over_the_ceiling_is_refused(aws: Aws) -> None:
    order = paid_order(aws)
    assert invoke(refund_handler, refund_event(order, 6000, request_id="a")) == []
    assert invoke(refund_handler, refund_event(order, 6000, request_id="b")) == []
    assert sum(refunds(order)) == 6000
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
    total = sum(refunds(order))
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
    assert invoke(payment_handler, payment_event(order, token=card("declined"))) == []
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
    assert charges(order) == [1000]
    [item] = aws.payment_items(order)
    assert item["amount"]["N"] == "1000"
    assert len(aws.published(order)) == 1


def test_mismatch_while_first_payment_is_pending_charges_nothing_more(aws: Aws) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, status=503)
    assert len(invoke(payment_handler, payment_event(order, minor_units=1000))) == 1
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
    after_lease(svc, monkeypatch)
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
    assert "pm_card" not in logs and "pm_" not in logs


# Crash windows of the two-step charge and of refunds, with a gateway that deduplicates nothing ------------


def test_crash_after_create_before_the_handle_is_stored_charges_once(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = new_order()
    event = payment_event(order)
    crash_once(svc._repo, "store_intent", monkeypatch)  # the intent exists at Stripe, the record does not hold it
    with pytest.raises(Crash):
        invoke(payment_handler, event)
    [item] = aws.payment_items(order)
    assert "intentId" not in item and charges(order) == []
    assert invoke(payment_handler, event) == []
    assert charges(order) == [4999]
    statuses = sorted(i.status for i in stripe_stack().stripe.intents(order))
    assert statuses == ["requires_confirmation", "succeeded"]  # the orphan was never confirmed


def test_crash_after_confirm_before_final_write_charges_once_even_days_later(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = new_order()
    event = payment_event(order)
    crash_once(svc._repo, "finish_payment", monkeypatch)
    with pytest.raises(Crash):
        invoke(payment_handler, event)
    assert charges(order) == [4999]
    # A DLQ redrive days later: Stripe's idempotency keys have expired (localstripe never honoured them).
    after_lease(svc, monkeypatch)
    assert invoke(payment_handler, event) == []
    assert charges(order) == [4999]
    # the redelivery read the stored intent back (confirm refused, then retrieve): no new intent was opened
    assert sorted(i.status for i in stripe_stack().stripe.intents(order)) == ["succeeded"]
    assert aws.payment_items(order)[0]["status"]["S"] == "SUCCEEDED"


def test_crash_after_gateway_refund_before_publish_refunds_once(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = paid_order(aws)
    event = refund_event(order, 4000, request_id="crash-1")
    crash_once(svc._publisher, "publish", monkeypatch)
    with pytest.raises(Crash):
        invoke(refund_handler, event)
    assert refunds(order) == [4000]
    after_lease(svc, monkeypatch)
    assert invoke(refund_handler, event) == []
    assert refunds(order) == [4000]
    assert [
        e["detail"]["data"]["amount"]["minorUnits"]
        for e in aws.published(order)
        if e["detail-type"] == "refund.succeeded"
    ] == [4000]


def test_a_resumed_refund_waits_for_the_lease_holder(aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    order = paid_order(aws)
    event = refund_event(order)
    crash_once(svc._repo, "approve_refund", monkeypatch)  # refunded at the gateway, the answer never recorded
    with pytest.raises(Crash):
        invoke(refund_handler, event)
    assert len(invoke(refund_handler, event)) == 1  # the lease is still held: no second gateway call
    assert refunds(order) == [10_000]
    after_lease(svc, monkeypatch)
    assert invoke(refund_handler, event) == []  # asks the gateway first, finds the refund, refunds nothing more
    assert refunds(order) == [10_000]
    assert [e["detail-type"] for e in aws.published(order)].count("refund.succeeded") == 1


def test_concurrent_refund_triggers_of_one_order_refund_once(aws: Aws) -> None:
    order = paid_order(aws)
    events = [refund_event(order, detail_type=t) for t in ("order.cancelled", "inventory.reservation_failed") * 4]
    barrier = threading.Barrier(len(events))

    def deliver(e: dict[str, Any]) -> None:
        barrier.wait()
        invoke(refund_handler, e)

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refunds(order) == [10_000]


def test_stale_read_cannot_refund_past_the_capture(aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ceiling is the database write's condition, not the decision: a delivery deciding on a stale view of
    the payment (as a concurrent one does) must not get its reservation through."""
    order = paid_order(aws)
    stale = svc._repo.get_payment_and_refund
    payment_before = svc._repo.get_payment(domain.payment_id_for(order))
    assert payment_before is not None
    assert invoke(refund_handler, refund_event(order, 6000, request_id="first")) == []

    def stale_view(payment_id: str, refund_id: str) -> Any:
        _, refund = stale(payment_id, refund_id)
        return payment_before, refund  # the payment as it was before the first refund

    monkeypatch.setattr(svc._repo, "get_payment_and_refund", stale_view)
    invoke(refund_handler, refund_event(order, 6000, request_id="second"))
    assert sum(refunds(order)) == 6000


def test_gateway_keys_name_the_business_action_not_the_delivery(
    aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe's idempotency keys are defence in depth (the SDK's own retries rely on them): every trigger of one
    order must send the same key, or a retried request could make a second intent at Stripe."""
    keys: list[str] = []
    for name in ("begin_charge", "refund"):
        real = getattr(svc._gateway, name)

        def spy(request: Any, _real: Any = real) -> Any:
            keys.append(request.idempotency_key)
            return _real(request)

        monkeypatch.setattr(svc._gateway, name, spy)
    order = new_order()
    assert invoke(payment_handler, payment_event(order, detail_type="inventory.reserved")) == []
    assert invoke(payment_handler, payment_event(order, detail_type="order.ready_for_payment")) == []
    assert invoke(refund_handler, refund_event(order, detail_type="order.cancelled")) == []
    assert keys == [f"pay:{order}", f"refund:{order}"]  # the second trigger found the claim: no gateway request


# Our own faults at the gateway are never the customer's ------------------------------------------------------


def test_a_wrong_stripe_key_fails_the_record_and_publishes_nothing(
    aws: Aws, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    order = new_order()
    event = payment_event(order)
    stripe_stack().faults.fail_next("POST", CONFIRM, status=401, order_id=order, error_type="invalid_request_error")
    assert len(invoke(payment_handler, event)) == 1  # redelivered, then DLQ; the alarm pages
    assert aws.published(order) == []
    assert aws.payment_items(order)[0]["status"]["S"] == "PENDING"
    assert "gateway refused our credentials" in caplog.text
    assert '"GatewayAuthError":[1.0]' in capsys.readouterr().out  # the EMF metric the alarm watches
    assert invoke(payment_handler, event) == []  # key fixed: the same intent is confirmed, once
    assert charges(order) == [4999]


def test_a_refused_idempotency_key_is_not_retried_and_not_published(aws: Aws) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", r"/v1/payment_intents$", status=400, error_type="idempotency_error")
    assert invoke(payment_handler, payment_event(order)) == []  # acknowledged: retrying cannot help
    assert aws.published(order) == [] and charges(order) == []
    [item] = aws.payment_items(order)  # left PENDING without an attempt: reconciliation closes it after the horizon
    assert item["status"]["S"] == "PENDING" and "intentId" not in item


def test_a_reused_refund_request_id_with_another_amount_refunds_nothing_and_is_counted(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    order = paid_order(aws)
    assert invoke(refund_handler, refund_event(order, 1000, request_id="rma-1")) == []
    capsys.readouterr()
    assert invoke(refund_handler, refund_event(order, 3000, request_id="rma-1")) == []
    assert refunds(order) == [1000]
    assert '"DuplicateRejected":[1.0]' in capsys.readouterr().out  # the metric the producer alarm watches
    assert len([e for e in aws.published(order) if e["detail-type"] == "refund.succeeded"]) == 1


def test_a_repeated_payment_trigger_with_another_amount_is_counted(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units=1000)) == []
    capsys.readouterr()
    assert invoke(payment_handler, payment_event(order, minor_units=9000)) == []
    assert '"DuplicateRejected":[1.0]' in capsys.readouterr().out
    assert charges(order) == [1000]


def test_an_unknown_payment_method_is_declined_once_and_identically(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order, token="pm_unknown_to_the_gateway")
    assert invoke(payment_handler, event) == []
    [failed] = [e for e in aws.published(order) if e["detail-type"] == "payment.failed"]
    assert failed["detail"]["data"]["code"] == "invalid_payment_method"
    assert stripe_stack().stripe.intents(order) == [] and charges(order) == []
