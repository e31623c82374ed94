"""Stripe Radar's signals (issue 20) against the real Stripe adapter and the local Stripe's Radar emulation.

A charge Radar blocks fails as ``radar_blocked`` (its 1.x edition ``card_declined``), not a plain decline. An early
fraud warning refunds the order once, whatever replays and second events say about the same warning, and never
more than remains refundable; reviews are recorded on the payment.
"""

from __future__ import annotations

from typing import Any

import pytest
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler
from novamart_payments.radar import fraud_refund_trigger

from tests.integration.test_later_outcomes import deliver, event_about, intent_of, kinds
from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.stripe_movements import card, charges, refunds, stripe_stack
from tests.support.trigger_events import new_order, payment_event, refund_event
from tools.devstack.stripe_extensions import (
    EARLY_FRAUD_WARNING_CARD,
    RADAR_BLOCKED_CARD,
    RADAR_ELEVATED_RISK_CARD,
    RADAR_HIGHEST_RISK_CARD,
)


def codes(aws: Aws, order: str) -> dict[str, str]:
    return {
        e["detail"]["metadata"]["schemaVersion"]: e["detail"]["data"]["code"]
        for e in aws.published(order, all_majors=True)
        if e["detail-type"] == "payment.failed"
    }


@pytest.mark.parametrize("number", [RADAR_BLOCKED_CARD, RADAR_HIGHEST_RISK_CARD])
def test_a_charge_radar_blocks_fails_as_radar_blocked(aws: Aws, number: str) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 3100, "USD", token=card(number))) == []
    assert codes(aws, order) == {"2.0": "radar_blocked", "1.1": "card_declined"}
    assert charges(order) == []
    assert radar_of(aws, order)[0] == "blocked"


def radar_of(aws: Aws, order: str) -> tuple[str | None, ...]:
    [item] = aws.payment_items(order)
    return tuple(
        item.get(k, {}).get("S") or item.get(k, {}).get("N")
        for k in ("radarOutcome", "radarRiskLevel", "radarRiskScore")
    )


def test_an_elevated_risk_charge_succeeds_with_its_radar_outcome_stored(aws: Aws) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 3100, "USD", token=card(RADAR_ELEVATED_RISK_CARD))) == []
    assert kinds(aws, order) == ["payment.succeeded"] and charges(order) == [3100]
    assert radar_of(aws, order) == ("authorized", "elevated", "67")
    normal = new_order()
    assert invoke(payment_handler, payment_event(normal, 3100, "USD")) == []
    assert radar_of(aws, normal) == ("authorized", "normal", "12")


def _warned_order(aws: Aws, amount: int = 5400) -> tuple[str, dict[str, Any]]:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, amount, "USD", token=card(EARLY_FRAUD_WARNING_CARD))) == []
    return order, event_about(intent_of(aws, order), "radar.early_fraud_warning.created")


def refund_events(aws: Aws, order: str) -> list[dict[str, Any]]:
    return [e for e in aws.published(order) if e["detail-type"].startswith("refund.")]


def test_an_early_fraud_warning_refunds_once_under_replay_and_second_events(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    assert deliver(warning) == (200, "fraud_refund:refunded:succeeded")
    assert deliver(warning) == (200, "replayed")  # the same event again
    updated = {**warning, "id": warning["id"] + "-updated", "type": "radar.early_fraud_warning.updated"}
    assert deliver(updated)[0] == 200  # a second event about the same warning
    assert invoke(refund_handler, refund_event(order, detail_type="order.cancelled")) == []  # and the order ends
    assert refunds(order) == [5400]
    [refunded] = refund_events(aws, order)
    assert refunded["detail-type"] == "refund.succeeded"
    assert refunded["detail"]["data"]["refundReason"] == "fraudulent"
    assert refunded["detail"]["data"]["amount"] == {"minorUnits": 5400, "currency": "USD"}


def test_an_early_fraud_warning_refunds_only_what_is_left(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    partial = refund_event(order, 1000, detail_type="order.cancelled", request_id="rq-partial-1")
    assert invoke(refund_handler, partial) == []
    assert deliver(warning)[0] == 200
    assert refunds(order) == [1000, 4400]
    amounts = [e["detail"]["data"]["amount"]["minorUnits"] for e in refund_events(aws, order)]
    assert sorted(amounts) == [1000, 4400]


def test_a_warning_about_a_refunded_order_moves_nothing(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    assert invoke(refund_handler, refund_event(order, detail_type="order.cancelled")) == []
    assert deliver(warning) == (200, "fraud_refund:duplicate")  # the order's full refund is this one
    assert refunds(order) == [5400] and len(refund_events(aws, order)) == 1


def test_a_warning_that_is_not_actionable_is_recorded_not_refunded(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    obj = {**warning["data"]["object"], "actionable": False}
    quiet = {**warning, "id": warning["id"] + "-na", "data": {**warning["data"], "object": obj}}
    assert deliver(quiet) == (200, "warning_recorded")
    assert refunds(order) == []


def test_reviews_are_recorded_on_the_payment(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    intent = intent_of(aws, order)
    review = {"id": "prv_test_1", "object": "review", "payment_intent": intent, "reason": "rule", "open": True}
    opened = {**warning, "id": warning["id"] + "-rev-o", "type": "review.opened", "data": {"object": review}}
    closed_review = {**review, "reason": "approved", "open": False}
    closed = {**warning, "id": warning["id"] + "-rev-c", "type": "review.closed", "data": {"object": closed_review}}
    assert deliver(closed) == (200, "review_closed:approved")  # out of order: the close first
    assert deliver(opened) == (200, "review_opened")
    [item] = aws.payment_items(order)
    assert sorted(item["radarReviews"]["SS"]) == ["prv_test_1:closed:approved", "prv_test_1:opened"]
    assert refunds(order) == []


def test_the_fraud_refund_is_the_orders_full_refund() -> None:
    trigger = fraud_refund_trigger("ord-1", "corr-1", "efw:issfr_1")
    assert trigger.amount is None and trigger.reason == "fraudulent"


def test_the_orders_risk_context_reaches_radar(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order, 2100, "USD")
    context = {
        "clientIp": "203.0.113.7",
        "emailSha256": "a" * 64,
        "shippingCountry": "DE",
        "sessionId": "rse_test_1",
    }
    event["detail"]["data"]["riskContext"] = context
    assert invoke(payment_handler, event) == []
    [intent] = stripe_stack().stripe.intents(order)
    seen = intent.to_dict()
    assert {k: seen["metadata"].get(k) for k in context} == context
    assert seen.get("radar_options") == {"session": "rse_test_1"}
    assert kinds(aws, order) == ["payment.succeeded"]


def test_a_risk_context_that_breaks_its_schema_is_refused(aws: Aws) -> None:
    order = new_order()
    event = payment_event(order)
    event["detail"]["data"]["riskContext"] = {"email": "someone@example.com"}  # a plain address: never
    assert len(invoke(payment_handler, event)) == 1
    assert aws.payment_items(order) == []


# --- a review closed as refunded as fraud: Stripe refunded, the service publishes that refund once -------------


def _review_closed(
    warning: dict[str, Any], intent: str, suffix: str, reason: str = "refunded_as_fraud"
) -> dict[str, Any]:
    review = {"id": "prv_fraud_1", "object": "review", "payment_intent": intent, "reason": reason, "open": False}
    return {**warning, "id": warning["id"] + suffix, "type": "review.closed", "data": {"object": review}}


def _stripe_refunds_as_fraud(intent: str, amount: int | None = None) -> str:
    """What Stripe does when the merchant closes the review by refunding the charge as fraud (no metadata of ours)."""
    params: dict[str, Any] = {"payment_intent": intent}  # localstripe refuses a refund reason
    if amount is not None:
        params["amount"] = amount
    return str(stripe_stack().stripe.client().v1.refunds.create(params=params).id)  # type: ignore[arg-type]


def test_a_review_closed_as_refunded_as_fraud_publishes_stripes_refund_once(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    intent = intent_of(aws, order)
    stripe_stack().stripe.close_review_as_fraud(intent)  # the local Stripe's control: it refunds the charge
    [stripes] = [r.id for r in stripe_stack().stripe.refunds(order)]
    closed = _review_closed(warning, intent, "-rev-f1")
    assert deliver(closed) == (200, "review_refund:refunded:succeeded")
    assert deliver(closed) == (200, "replayed")  # the same event again
    assert deliver(_review_closed(warning, intent, "-rev-f2")) == (200, "review_refund:duplicate")  # another event
    assert deliver(warning) == (200, "fraud_refund:duplicate")  # the warning after it converges: no own refund
    assert invoke(refund_handler, refund_event(order, detail_type="order.cancelled")) == []
    assert refunds(order) == [5400]  # Stripe's only
    [refunded] = refund_events(aws, order)
    assert refunded["detail-type"] == "refund.succeeded"
    assert refunded["detail"]["data"]["refundReason"] == "fraudulent"
    assert refunded["detail"]["data"]["amount"] == {"minorUnits": 5400, "currency": "USD"}
    [item] = aws.refund_items(order)
    assert item["transactionId"]["S"] == stripes  # the refund recorded is Stripe's own


def test_a_review_closed_after_the_warnings_refund_publishes_nothing_more(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    intent = intent_of(aws, order)
    assert deliver(warning) == (200, "fraud_refund:refunded:succeeded")
    assert deliver(_review_closed(warning, intent, "-rev-after")) == (200, "review_refund:duplicate")
    assert refunds(order) == [5400] and len(refund_events(aws, order)) == 1


def test_a_review_refund_is_published_for_what_was_left(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    intent = intent_of(aws, order)
    partial = refund_event(order, 1000, detail_type="order.cancelled", request_id="rq-partial-rev")
    assert invoke(refund_handler, partial) == []
    _stripe_refunds_as_fraud(intent, 4400)  # Stripe refunds what remains of the charge
    assert deliver(_review_closed(warning, intent, "-rev-left")) == (200, "review_refund:refunded:succeeded")
    assert refunds(order) == [1000, 4400]
    amounts = sorted(e["detail"]["data"]["amount"]["minorUnits"] for e in refund_events(aws, order))
    assert amounts == [1000, 4400]


def test_a_review_closed_as_fraud_without_a_refund_at_stripe_publishes_nothing(aws: Aws) -> None:
    order, warning = _warned_order(aws)
    closed = _review_closed(warning, intent_of(aws, order), "-rev-none")
    assert deliver(closed) == (200, "review_closed:no_refund_to_publish")  # the notice's word is not enough
    assert refunds(order) == [] and refund_events(aws, order) == []
