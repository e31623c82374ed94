"""Outcomes that arrive later (issue 10), handler by handler against the real Stripe adapter and localstripe:
3-D Secure, webhooks (signature, replays, order), refunds that settle later, disputes, reconciliation.

The tests play Stripe's side with the events localstripe recorded, signed as Stripe signs them
(``tests/support/webhooks.py``), and count money per order at the gateway.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from novamart_payments import domain
from novamart_payments.envelope import checked_event, payment_trigger
from novamart_payments.gateway import GatewayMisconfigured
from novamart_payments.handlers import webhooks
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.handlers.webhooks import MAX_BODY_BYTES
from novamart_payments.handlers.webhooks import handler as webhook_handler
from novamart_payments.reconciliation import Ages
from novamart_payments.service import PaymentService

from tests.support.gateway import StripeStack
from tests.support.handler_calls import Context, invoke
from tests.support.integration_aws import WEBHOOK_EVENTS, Aws
from tests.support.stripe_movements import card, charges, refunds, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tests.support.webhooks import signed_request, stripe_events, was_handled
from tools.devstack.stripe_faults import CONFIRM

NOW = Ages(pending_after=timedelta(0), action_after=timedelta(0))


def kinds(aws: Aws, order: str) -> list[str]:
    return [e["detail-type"] for e in aws.published(order)]


def record(aws: Aws, order: str) -> dict[str, Any]:
    [item] = aws.payment_items(order)
    return item


def intent_of(aws: Aws, order: str) -> str:
    return str(record(aws, order)["intentId"]["S"])


def authenticate(intent_id: str, *, success: bool) -> None:
    """The customer completing 3-D Secure (the local Stripe's test control; the storefront reads the client secret
    from Stripe with its own key, never from our events)."""
    stripe_stack().stripe.authenticate(intent_id, success=success)


def settle_refund(refund_id: str, status: str) -> None:
    stripe_stack().stripe.settle_refund(refund_id, status)


def event_about(object_id: str, kind: str, stack: StripeStack | None = None) -> dict[str, Any]:
    """The (last) event localstripe recorded of that kind about the object; its webhooks are sent 1 s after the
    fact, the record a moment before: poll with a deadline."""
    client = (stack or stripe_stack()).stripe.client()
    deadline = time.monotonic() + 10
    while True:
        found = stripe_events(client, object_id, kind)
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no {kind} event about {object_id}"
        time.sleep(0.05)


def deliver(event: dict[str, Any] | bytes, **signing: Any) -> tuple[int, str]:
    answer = webhook_handler(signed_request(event, **signing), Context())
    return int(answer["statusCode"]), str(json.loads(answer["body"])["outcome"])


def pay_3ds(aws: Aws) -> tuple[str, str]:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 4200, "EUR", token=card("three_d_secure"))) == []
    return order, intent_of(aws, order)


# --- 3-D Secure --------------------------------------------------------------------------------------------


def test_action_required_carries_what_the_storefront_needs_and_no_secret(aws: Aws) -> None:
    order, intent = pay_3ds(aws)
    [event] = aws.published(order)
    data = event["detail"]["data"]
    assert event["detail-type"] == "payment.action_required"
    assert data["intentId"] == intent and data["action"] == "three_d_secure" and data["status"] == "REQUIRES_ACTION"
    assert "secret" not in json.dumps(event).lower()
    assert invoke(payment_handler, payment_event(order, 4200, "EUR", token=card("three_d_secure"))) == []
    assert kinds(aws, order) == ["payment.action_required"]  # a redelivery publishes nothing new


@pytest.mark.parametrize(
    ("success", "kind", "status", "charged"),
    [(True, "payment.succeeded", "SUCCEEDED", [4200]), (False, "payment.failed", "FAILED", [])],
)
def test_the_webhook_finishes_a_3ds_payment_exactly_once(
    aws: Aws, success: bool, kind: str, status: str, charged: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    order, intent = pay_3ds(aws)
    authenticate(intent, success=success)
    event = event_about(intent, "payment_intent.succeeded" if success else "payment_intent.payment_failed")
    assert not was_handled(webhooks._log(), event["id"])
    assert deliver(event) == (200, f"charged:{status.lower()}")
    assert was_handled(webhooks._log(), event["id"])
    assert '"WebhookDuplicate"' not in capsys.readouterr().out
    assert deliver(event) == (200, "replayed")  # Stripe's retry of the same event: known by its id
    assert '"WebhookDuplicate":[1.0]' in capsys.readouterr().out
    assert kinds(aws, order) == ["payment.action_required", kind]
    assert record(aws, order)["status"]["S"] == status and "openStatus" not in record(aws, order)
    assert charges(order) == charged


def test_a_late_older_notification_cannot_move_a_finished_payment_back(aws: Aws) -> None:
    order, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    succeeded = event_about(intent, "payment_intent.succeeded")
    stale = {**succeeded, "id": succeeded["id"] + "old", "type": "payment_intent.requires_action"}
    stale["data"] = {"object": {**succeeded["data"]["object"], "status": "requires_action"}}
    assert deliver(succeeded)[0] == 200
    assert deliver(stale) == (200, "duplicate")  # the truth is read from Stripe: still succeeded
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"]
    assert record(aws, order)["status"]["S"] == "SUCCEEDED"


def test_an_order_cancelled_while_waiting_for_the_customer_cancels_the_intent(aws: Aws) -> None:
    order, intent = pay_3ds(aws)
    assert invoke(refund_handler, refund_event(order)) == []
    assert kinds(aws, order) == ["payment.action_required", "payment.failed", "refund.failed"]
    failed = aws.published(order)[1]["detail"]["data"]
    assert failed["code"] == "order_cancelled"
    assert stripe_stack().stripe.client().v1.payment_intents.retrieve(intent).status == "canceled"
    assert charges(order) == [] and refunds(order) == []


def test_an_abandoned_authentication_expires_at_reconciliation(aws: Aws, svc: PaymentService) -> None:
    impatient = PaymentService(svc.repository, svc.publisher, svc.gateway, action_deadline=timedelta(0))
    order = new_order()
    trigger_event = payment_event(order, 1800, "GBP", token=card("three_d_secure"))
    impatient.handle_payment(
        payment_trigger(checked_event(json.dumps(trigger_event), frozenset({trigger_event["detail-type"]})))
    )
    assert svc.reconcile(NOW)["cancelled:authentication_expired"] >= 1
    assert kinds(aws, order) == ["payment.action_required", "payment.failed"]
    assert aws.published(order)[1]["detail"]["data"]["code"] == "authentication_expired"
    assert stripe_stack().stripe.client().v1.payment_intents.retrieve(intent_of(aws, order)).status == "canceled"
    assert charges(order) == []


class Stopped(BaseException):
    """The Lambda runtime stopping an invocation at its timeout: nothing of the handler runs after it."""


def _stopped_delivery(event: dict[str, Any], remaining_millis: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery that claims the event and is stopped while settling it, with that much invocation time left."""
    context = Context()
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: remaining_millis)

    def stopped(*_: Any, **__: Any) -> str:
        raise Stopped

    with monkeypatch.context() as patch:
        patch.setattr(webhooks, "_settle_all", stopped)
        with pytest.raises(Stopped):
            webhook_handler(signed_request(event), context)


def test_a_delivery_in_progress_is_answered_409_and_its_claim_ends_with_its_invocation(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim's lease is the claiming invocation's remaining time: while it may still run, another delivery of
    the event is told to come back (409); once it cannot be running any more, Stripe's retry settles the event."""
    order, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    running = event_about(intent, "payment_intent.succeeded")
    timed_out = {**running, "id": running["id"] + "_other"}
    _stopped_delivery(running, Context().get_remaining_time_in_millis(), monkeypatch)
    assert deliver(running) == (409, "in_progress")
    assert record(aws, order)["status"]["S"] == "REQUIRES_ACTION"
    _stopped_delivery(timed_out, 0, monkeypatch)
    assert deliver(timed_out) == (200, "charged:succeeded")
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"]


@pytest.mark.parametrize(
    ("failure", "answer"),
    [(RuntimeError("boom"), (503, "retry_later")), (GatewayMisconfigured("wrong key"), (500, "gateway_misconfigured"))],
)
@pytest.mark.parametrize("removal_fails", [False, True])
def test_a_failed_settlement_gives_its_claim_back_for_stripes_retry(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, failure: Exception, answer: tuple[int, str], removal_fails: bool
) -> None:
    """The claim of a delivery that failed is removed, so the retry is not turned away (409) until the lease ends;
    when the removal fails too, the answer is the same, and the lease ends by itself."""
    order, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    event = event_about(intent, "payment_intent.succeeded")

    def failing(*_: Any, **__: Any) -> str:
        raise failure

    with monkeypatch.context() as patch:
        patch.setattr(webhooks, "_settle_all", failing)
        if removal_fails:
            patch.setattr(webhooks._log().client, "delete_item", failing)
        assert deliver(event) == answer
    if removal_fails:
        assert deliver(event) == (409, "in_progress")
        return
    assert deliver(event) == (200, "charged:succeeded")
    assert kinds(aws, order) == ["payment.action_required", "payment.succeeded"]


# --- webhook hygiene ---------------------------------------------------------------------------------------


def _snapshot(aws: Aws, order: str) -> tuple[Any, ...]:
    handled = aws.dynamodb.scan(TableName=WEBHOOK_EVENTS, ConsistentRead=True)["Items"]
    return (aws.payment_items(order), kinds(aws, order), sorted(json.dumps(i, sort_keys=True) for i in handled))


@pytest.mark.parametrize(
    ("request_kind", "status", "why"),
    [
        ("wrong_secret", 400, "bad_signature"),
        ("tampered", 400, "bad_signature"),
        ("stale", 400, "stale_timestamp"),
        ("unsigned", 400, "missing_signature"),
        ("not_json", 400, "not_json"),
        ("oversized", 413, "body_too_large"),
    ],
)
def test_a_webhook_that_is_not_a_fresh_stripe_event_changes_nothing(
    aws: Aws, request_kind: str, status: int, why: str
) -> None:
    order, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    event = event_about(intent, "payment_intent.succeeded")
    before = _snapshot(aws, order)
    body = json.dumps(event).encode()
    request = {
        "wrong_secret": lambda: signed_request(event, "whsec_someone_else"),
        "tampered": lambda: {
            **signed_request(event),
            "body": body.decode().replace('"succeeded"', '"SUCCEEDED"', 1),
        },
        "stale": lambda: signed_request(event, timestamp=int(time.time()) - 301),
        "unsigned": lambda: {**signed_request(event), "headers": {"content-type": "application/json"}},
        "not_json": lambda: signed_request(b"{not json"),
        "oversized": lambda: signed_request(b" " * (MAX_BODY_BYTES + 1)),
    }[request_kind]()
    answer = webhook_handler(request, Context())
    assert (answer["statusCode"], json.loads(answer["body"])["outcome"]) == (status, why)
    assert _snapshot(aws, order) == before
    assert record(aws, order)["status"]["S"] == "REQUIRES_ACTION"


def test_a_base64_body_is_read_like_a_plain_one(aws: Aws) -> None:
    _, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    assert deliver(event_about(intent, "payment_intent.succeeded"), base64_body=True) == (200, "charged:succeeded")


def test_headers_are_read_whatever_their_case_and_a_broken_base64_body_is_refused(aws: Aws) -> None:
    _, intent = pay_3ds(aws)
    authenticate(intent, success=True)
    event = event_about(intent, "payment_intent.succeeded")
    request = signed_request(event)
    request["headers"] = {
        "Content-Type": "application/json",
        "Stripe-Signature": request["headers"]["stripe-signature"],
    }
    broken = {**request, "body": "not base64!", "isBase64Encoded": True}
    answer = webhook_handler(broken, Context())
    assert (answer["statusCode"], json.loads(answer["body"])["outcome"]) == (400, "unreadable_body")
    answer = webhook_handler(request, Context())
    assert (answer["statusCode"], json.loads(answer["body"])["outcome"]) == (200, "charged:succeeded")


def test_events_about_others_objects_are_acknowledged_and_ignored(aws: Aws) -> None:
    customer = stripe_stack().stripe.client().v1.customers.create()
    assert deliver(event_about(customer.id, "customer.created")) == (200, "ignored")


# --- refunds that settle later -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settled", "kind", "refunded_after"), [("succeeded", "refund.succeeded", 2500), ("failed", "refund.failed", 0)]
)
def test_a_pending_refund_settles_through_the_webhook(aws: Aws, settled: str, kind: str, refunded_after: int) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 2500, "USD", token=card("pending_refund"))) == []
    assert invoke(refund_handler, refund_event(order)) == []
    assert kinds(aws, order) == ["payment.succeeded"]  # accepted by the gateway, not settled: no event yet
    [refund_item] = aws.refund_items(order)
    assert refund_item["status"]["S"] == "PENDING"
    transaction = refund_item["transactionId"]["S"]
    settle_refund(transaction, settled)
    assert deliver(event_about(transaction, "refund.updated"))[0] == 200
    assert deliver(event_about(transaction, "charge.refund.updated")) == (200, "duplicate")
    assert kinds(aws, order) == ["payment.succeeded", kind]
    # A failed refund gives its reservation back: the payment is refundable again.
    assert int(record(aws, order)["refundedAmount"]["N"]) == refunded_after


# --- disputes ----------------------------------------------------------------------------------------------


def test_a_dispute_is_published_once(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 2599, "USD", token=card("disputed"))) == []
    dispute = event_about(intent_of(aws, order), "charge.dispute.created")
    assert deliver(dispute) == (200, "disputed")
    assert deliver(dispute) == (200, "replayed")
    assert deliver({**dispute, "id": dispute["id"] + "again"}) == (200, "duplicate")  # a second event, same dispute
    assert kinds(aws, order) == ["payment.succeeded", "payment.disputed"]
    data = aws.published(order)[1]["detail"]["data"]
    assert data["disputeId"] == dispute["data"]["object"]["id"] and data["disputeReason"] == "fraudulent"
    assert data["amount"] == {"minorUnits": 2599, "currency": "USD"}


# --- reconciliation ----------------------------------------------------------------------------------------


def test_an_outage_past_the_retry_horizon_fails_the_payment_once_nothing_was_charged(aws: Aws) -> None:
    order = new_order()
    trigger = payment_event(order, 3100, "USD", token=card("visa"))
    stripe_stack().faults.fail_next("POST", CONFIRM, times=5, order_id=order)
    for _ in range(5):  # every receive fails: the message goes to the DLQ
        assert len(invoke(payment_handler, trigger)) == 1
    assert record(aws, order)["status"]["S"] == "PENDING" and kinds(aws, order) == []
    report = svc_of().reconcile(NOW)
    assert report["cancelled:gateway_unavailable"] >= 1
    assert kinds(aws, order) == ["payment.failed"]
    assert aws.published(order)[0]["detail"]["data"]["code"] == "gateway_unavailable"
    assert "openStatus" not in record(aws, order)
    intent = stripe_stack().stripe.client().v1.payment_intents.retrieve(intent_of(aws, order))
    assert intent.status == "canceled"  # so nobody can ever confirm it later
    svc_of().reconcile(NOW)  # a second pass finds nothing left to do for it
    assert invoke(payment_handler, trigger) == []  # the DLQ redriven later: nothing moves
    assert kinds(aws, order) == ["payment.failed"] and charges(order) == []


def test_reconciliation_finishes_a_payment_whose_confirm_went_through_unanswered(aws: Aws) -> None:
    order = new_order()
    trigger = payment_event(order, 3300, "USD", token=card("visa"))
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, status=0, order_id=order)  # connection dropped
    assert len(invoke(payment_handler, trigger)) == 1
    intent = intent_of(aws, order)
    stripe_stack().stripe.client().v1.payment_intents.confirm(intent)  # the confirm had reached Stripe after all
    svc_of().reconcile(NOW)
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [3300]
    assert invoke(payment_handler, trigger) == [] and kinds(aws, order) == ["payment.succeeded"]


def test_reconciliation_reads_pending_payments_from_the_index_not_the_table(aws: Aws, svc: PaymentService) -> None:
    order = new_order()
    stripe_stack().faults.fail_next("POST", CONFIRM, times=1, order_id=order)
    invoke(payment_handler, payment_event(order, 900, "USD", token=card("visa")))
    calls: list[str] = []
    client = svc.repository.client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    try:
        svc.reconcile(NOW)
    finally:
        client.meta.events.unregister("before-call.dynamodb")
    assert "Scan" not in calls and "Query" in calls


def svc_of() -> PaymentService:
    from novamart_payments.handlers import _batch

    return _batch.service()


def test_waiting_records_move_only_forward(aws: Aws, svc: PaymentService) -> None:
    order, _ = pay_3ds(aws)
    current = svc.repository.get_payment(domain.payment_id_for(order))
    assert current is not None
    again = svc.repository.require_action(replace(current, status=domain.Status.PENDING), "2099-01-01T00:00:00.000Z")
    assert not again.won  # REQUIRES_ACTION cannot be made to wait again
