"""The Stripe adapter at the HTTP boundary: Stripe-shaped answers in, port results or the right exception out.

A fake ``stripe.HTTPClient`` plays Stripe, so the real SDK parses every answer (errors included) exactly as it
would in production; nothing of the adapter is stubbed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from novamart_payments.domain import Money
from novamart_payments.gateway import (
    ChargeRequest,
    GatewayMisconfigured,
    IdempotencyKeyReused,
    Outcome,
    PaymentMethodRefused,
    RefundRequest,
    TransientGatewayError,
)
from novamart_payments.gateway.stripe_gateway import StripeGateway

REQ = ChargeRequest("pay:o1", "o1", "p1", "cus-1001", "corr-1", Money(1500, "JPY"), "pm_card_visa")
REFUND = RefundRequest("refund:o1", "o1", "r1", "pi_1", Money(500, "JPY"))
UNEXPECTED_STATE = "payment_intent_unexpected_state"
INTENT = {"id": "pi_1", "object": "payment_intent", "created": 1795700000, "status": "requires_confirmation"}


class FakeStripe(stripe.HTTPClient):
    """Answers scripted per ``METHOD path``; records every request."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.seen: list[tuple[str, str, dict[str, list[str]], Mapping[str, str]]] = []

    def on(self, route: str, status: int, body: dict[str, Any]) -> FakeStripe:
        self.answers.setdefault(route, []).append((status, body))
        return self

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None) -> Any:
        path = urlsplit(url).path
        form = parse_qs(post_data or urlsplit(url).query or "")
        self.seen.append((method.upper(), path, form, dict(headers or {})))
        queue = self.answers.get(f"{method.upper()} {path}")
        if not queue:
            raise AssertionError(f"unexpected {method} {path}")
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return json.dumps(body), status, {"request-id": "req_1"}

    def close(self) -> None:
        pass


def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(lambda: "sk_test_unit", http_client=fake, off_session=True)


def error(kind: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": "Stripe says no.", **extra}}


def test_begin_charge_creates_an_unconfirmed_intent_with_minor_units_and_metadata() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents", 200, INTENT)
    assert gateway(fake).begin_charge(REQ) == "pi_1"
    _, _, form, headers = fake.seen[0]
    assert form["amount"] == ["1500"] and form["currency"] == ["jpy"]
    assert form["payment_method"] == ["pm_card_visa"] and "confirm" not in form
    assert form["metadata[orderId]"] == ["o1"] and form["metadata[paymentId]"] == ["p1"]
    assert form["metadata[correlationId]"] == ["corr-1"]
    assert "customer" not in form  # NovaMart's own customer id is not a Stripe customer
    assert headers["Idempotency-Key"] == "pay:o1"


def test_a_stripe_customer_id_is_passed_on() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents", 200, INTENT)
    gateway(fake).begin_charge(ChargeRequest("k", "o1", "p1", "cus_Stripe1", "c", Money(1, "USD"), "pm_x"))
    assert fake.seen[0][2]["customer"] == ["cus_Stripe1"]


def test_confirm_success_is_approved_with_the_charge_id_off_session() -> None:
    done = {**INTENT, "status": "succeeded", "latest_charge": "ch_1"}
    fake = FakeStripe().on("POST /v1/payment_intents/pi_1/confirm", 200, done)
    result = gateway(fake).complete_charge("pi_1", REQ)
    assert result.approved and result.transaction_id == "ch_1"
    assert result.processed_at == "2026-11-26T13:33:20.000Z"  # the intent's created, read back identically
    assert fake.seen[0][2]["off_session"] == ["true"]
    assert fake.seen[0][3]["Idempotency-Key"] == "pay:o1:confirm"


@pytest.mark.parametrize(
    ("code", "decline_code", "expected"),
    [
        ("card_declined", "insufficient_funds", "insufficient_funds"),
        ("card_declined", "generic_decline", "card_declined"),
        ("card_declined", "do_not_honor", "card_declined"),
        ("expired_card", None, "expired_card"),
        ("incorrect_cvc", None, "incorrect_cvc"),
        ("incorrect_number", None, "incorrect_number"),
        ("processing_error", None, "processing_error"),
        ("authentication_required", "authentication_required", "authentication_required"),
    ],
)
def test_card_errors_become_declines_with_stripes_code(code: str, decline_code: str | None, expected: str) -> None:
    body = error("card_error", code, decline_code=decline_code, charge="ch_9")
    fake = FakeStripe().on("POST /v1/payment_intents/pi_1/confirm", 402, body)
    result = gateway(fake).complete_charge("pi_1", REQ)
    assert result.outcome is Outcome.DECLINED and result.code == expected
    assert result.transaction_id == "ch_9" and result.reason


@pytest.mark.parametrize(
    ("intent", "outcome", "code"),
    [
        ({"status": "succeeded", "latest_charge": {"id": "ch_2"}}, Outcome.APPROVED, None),
        ({"status": "requires_action", "next_action": {"type": "use_stripe_sdk"}}, Outcome.REQUIRES_ACTION, None),
        ({"status": "canceled"}, Outcome.DECLINED, "payment_canceled"),
        (
            {"status": "requires_payment_method", "last_payment_error": {"code": "expired_card", "message": "m"}},
            Outcome.DECLINED,
            "expired_card",
        ),
    ],
)
def test_a_confirm_past_confirmation_reads_the_intent_back(
    intent: dict[str, Any], outcome: Outcome, code: str | None
) -> None:
    fake = (
        FakeStripe()
        .on(
            "POST /v1/payment_intents/pi_1/confirm",
            400,
            error("invalid_request_error", "payment_intent_unexpected_state"),
        )
        .on("GET /v1/payment_intents/pi_1", 200, {**INTENT, **intent})
    )
    result = gateway(fake).complete_charge("pi_1", REQ)
    assert (result.outcome, result.code) == (outcome, code)
    assert [s[1] for s in fake.seen] == ["/v1/payment_intents/pi_1/confirm", "/v1/payment_intents/pi_1"]


def test_a_processing_intent_is_transient() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents/pi_1/confirm", 200, {**INTENT, "status": "processing"})
    with pytest.raises(TransientGatewayError):
        gateway(fake).complete_charge("pi_1", REQ)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, error("invalid_request_error", "rate_limit")),
        (500, error("api_error")),
        (503, error("api_error")),
        (409, error("idempotency_error")),
    ],
)
def test_rate_limits_5xx_and_in_flight_keys_are_transient(status: int, body: dict[str, Any]) -> None:
    fake = FakeStripe().on("POST /v1/payment_intents", status, body)
    with pytest.raises(TransientGatewayError):
        gateway(fake).begin_charge(REQ)


def test_a_connection_error_is_transient() -> None:
    class Down(FakeStripe):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise stripe.APIConnectionError("connection refused", should_retry=True)

    with pytest.raises(TransientGatewayError):
        gateway(Down()).complete_charge("pi_1", REQ)


@pytest.mark.parametrize("status", [401, 403])
def test_our_wrong_key_is_misconfiguration_never_a_decline(status: int) -> None:
    kind = "invalid_request_error"
    fake = FakeStripe().on("POST /v1/payment_intents/pi_1/confirm", status, error(kind, "api_key_expired"))
    with pytest.raises(GatewayMisconfigured) as raised:
        gateway(fake).complete_charge("pi_1", REQ)
    assert "sk_test_unit" not in str(raised.value)


def test_a_reused_idempotency_key_is_not_retried() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents", 400, error("idempotency_error"))
    with pytest.raises(IdempotencyKeyReused):
        gateway(fake).begin_charge(REQ)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("succeeded", Outcome.APPROVED),
        ("pending", Outcome.PENDING),
        ("failed", Outcome.DECLINED),
        ("canceled", Outcome.DECLINED),
    ],
)
def test_refund_statuses_map_to_outcomes(status: str, outcome: Outcome) -> None:
    body = {"id": "re_1", "object": "refund", "status": status, "created": 1795700000, "amount": 500}
    fake = FakeStripe().on("POST /v1/refunds", 200, body)
    result = gateway(fake).refund(REFUND)
    assert result.outcome is outcome and result.transaction_id == "re_1"
    form, headers = fake.seen[0][2], fake.seen[0][3]
    assert form["payment_intent"] == ["pi_1"] and form["amount"] == ["500"] and form["metadata[refundId]"] == ["r1"]
    assert headers["Idempotency-Key"] == "refund:o1"
    if outcome is Outcome.DECLINED:
        assert result.code == "refund_declined"


@pytest.mark.parametrize("code", ["charge_already_refunded", "charge_disputed"])
def test_refund_refusals_are_declines_with_their_code(code: str) -> None:
    fake = FakeStripe().on("POST /v1/refunds", 400, error("invalid_request_error", code))
    result = gateway(fake).refund(REFUND)
    assert result.outcome is Outcome.DECLINED and result.code == code


def test_find_refund_matches_our_refund_id_only() -> None:
    page = {
        "object": "list",
        "url": "/v1/refunds",
        "has_more": False,
        "data": [
            {"id": "re_other", "object": "refund", "status": "succeeded", "metadata": {"refundId": "r0"}},
            {"id": "re_ours", "object": "refund", "status": "succeeded", "metadata": {"refundId": "r1"}},
        ],
    }
    fake = FakeStripe().on("GET /v1/refunds", 200, page)
    found = gateway(fake).find_refund(REFUND)
    assert found is not None and found.transaction_id == "re_ours"
    assert gateway(fake).find_refund(RefundRequest("k", "o1", "r9", "pi_1", Money(1, "JPY"))) is None


def test_a_rotated_key_builds_a_new_client() -> None:
    keys = iter(["sk_test_a", "sk_test_a", "sk_test_b"])
    gw = StripeGateway(lambda: next(keys), http_client=FakeStripe())
    first = gw._stripe()
    assert gw._stripe() is first and gw._stripe() is not first


def test_an_unknown_payment_method_on_create_is_a_refusal_not_an_error() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents", 404, error("invalid_request_error", "resource_missing"))
    with pytest.raises(PaymentMethodRefused) as refused:
        gateway(fake).begin_charge(REQ)
    assert refused.value.result.code == "invalid_payment_method"


@pytest.mark.parametrize(
    ("intent", "outcome", "action"),
    [
        ({"status": "requires_confirmation"}, Outcome.NOT_STARTED, None),
        ({"status": "processing"}, Outcome.PENDING, None),
        (
            {"status": "requires_action", "next_action": {"type": "use_stripe_sdk"}},
            Outcome.REQUIRES_ACTION,
            "three_d_secure",
        ),
        (
            {"status": "requires_action", "next_action": {"type": "redirect_to_url"}},
            Outcome.REQUIRES_ACTION,
            "redirect",
        ),
        ({"status": "requires_action", "next_action": {"type": "wechat"}}, Outcome.REQUIRES_ACTION, "other"),
        ({"status": "succeeded", "latest_charge": "ch_3"}, Outcome.APPROVED, None),
    ],
)
def test_charge_status_reports_the_intent_as_it_is_with_its_order(
    intent: dict[str, Any], outcome: Outcome, action: str | None
) -> None:
    body = {**INTENT, **intent, "metadata": {"orderId": "o1"}, "client_secret": "pi_1_secret_x"}
    result = gateway(FakeStripe().on("GET /v1/payment_intents/pi_1", 200, body)).charge_status("pi_1")
    assert result.outcome is outcome and result.action == action and result.order_id == "o1"
    assert "secret" not in repr(result)  # the client secret never leaves the adapter


def test_cancel_of_an_intent_that_succeeded_meanwhile_reports_the_success() -> None:
    fake = (
        FakeStripe()
        .on("POST /v1/payment_intents/pi_1/cancel", 400, error("invalid_request_error", UNEXPECTED_STATE))
        .on("GET /v1/payment_intents/pi_1", 200, {**INTENT, "status": "succeeded", "latest_charge": "ch_4"})
    )
    result = gateway(fake).cancel_charge("pi_1")
    assert result.approved and result.transaction_id == "ch_4"


def test_cancel_reports_the_cancellation() -> None:
    fake = FakeStripe().on("POST /v1/payment_intents/pi_1/cancel", 200, {**INTENT, "status": "canceled"})
    result = gateway(fake).cancel_charge("pi_1")
    assert result.outcome is Outcome.DECLINED and result.code == "payment_canceled"


@pytest.mark.parametrize(
    ("status", "outcome"), [("pending", Outcome.PENDING), ("succeeded", Outcome.APPROVED), ("failed", Outcome.DECLINED)]
)
def test_refund_status_reads_the_refund(status: str, outcome: Outcome) -> None:
    refund = {"id": "re_1", "object": "refund", "status": status, "created": 1795700000}
    assert gateway(FakeStripe().on("GET /v1/refunds/re_1", 200, refund)).refund_status("re_1").outcome is outcome
