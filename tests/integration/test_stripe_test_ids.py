"""The local Stripe answers as Stripe's test mode does for Stripe's documented test PaymentMethod ids and test
cards, whoever sends them (issue 22): a producer's event carrying ``pm_card_chargeDeclinedInsufficientFunds``
ends in ``payment.failed`` ``insufficient_funds`` here as it does against Stripe, and nothing is charged.

Codes Stripe reports as a ``decline_code`` outside the published enum (``lost_card``, ...) are published as
``card_declined``, as the adapter does in production (``stripe_errors.DECLINE_CODES``).
"""

from __future__ import annotations

import pytest
from novamart_payments.handlers.payment import handler as payment_handler

from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.stripe_movements import card, charges
from tests.support.trigger_events import new_order, payment_event

DECLINES = {
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_visa_chargeDeclined": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedLostCard": "card_declined",
    "pm_card_chargeDeclinedStolenCard": "card_declined",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
    "pm_card_chargeDeclinedIncorrectCvc": "incorrect_cvc",
    "pm_card_chargeDeclinedProcessingError": "processing_error",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "card_declined",
    "pm_card_chargeCustomerFail": "card_declined",
}


def outcome(aws: Aws, order: str) -> tuple[str, str | None]:
    [event] = aws.published(order)
    return event["detail-type"], event["detail"]["data"].get("code")


@pytest.mark.parametrize(("token", "code"), DECLINES.items(), ids=list(DECLINES))
def test_a_documented_decline_id_fails_with_stripes_code_and_charges_nothing(aws: Aws, token: str, code: str) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 3000, "USD", token=token)) == []
    assert outcome(aws, order) == ("payment.failed", code)
    assert charges(order) == []


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000002", "card_declined"),
    ],
)
def test_a_decline_card_sent_as_a_number_declines_when_charged_with_its_code(aws: Aws, number: str, code: str) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 3000, "USD", token=card(number))) == []
    assert outcome(aws, order) == ("payment.failed", code)
    assert charges(order) == []


@pytest.mark.parametrize("token", ["pm_card_mastercard", "pm_card_visa_debit", "pm_card_discover", "pm_card_jcb"])
def test_a_documented_card_id_is_charged(aws: Aws, token: str) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 1234, "USD", token=token)) == []
    assert outcome(aws, order) == ("payment.succeeded", None)
    assert charges(order) == [1234]


@pytest.mark.parametrize("token", ["pm_card_threeDSecure2Required", "pm_card_authenticationRequired"])
def test_a_documented_3ds_id_asks_for_the_customer(aws: Aws, token: str) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, 1500, "EUR", token=token)) == []
    assert outcome(aws, order) == ("payment.action_required", None)
    assert charges(order) == []
