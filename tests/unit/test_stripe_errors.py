"""Errors sorted by class and code, never by the words of a message (issue 23).

Real ``stripe`` error objects and real botocore ``ClientError``s (through Powertools Parameters and botocore's
Stubber) carry the codes; each message is written to mislead a classifier that reads text, and the SDK's own
signature messages are reworded, as a new SDK release may: the answers must not change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import stripe
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.stub import Stubber
from novamart_payments.gateway import (
    GatewayMisconfigured,
    GatewayRateLimited,
    IdempotencyKeyReused,
    TransientGatewayError,
    UnknownToGateway,
    stripe_secrets,
)
from novamart_payments.gateway.stripe_errors import Declined, answer_for
from novamart_payments.gateway.stripe_webhooks import BadWebhook, verified_event

SECRET = "whsec_test_secret"


# --- Stripe's API errors --------------------------------------------------------------------------------------


def _invalid(code: str | None, status: int, text: str) -> stripe.InvalidRequestError:
    return stripe.InvalidRequestError(text, None, code=code, http_status=status, json_body={"error": {"code": code}})


@pytest.mark.parametrize(
    ("err", "kinds", "expected"),
    [
        # A message that names another code than the one Stripe set: the code decides.
        (_invalid("parameter_missing", 400, "resource_missing: no such payment_method"), {"creating": True}, None),
        (_invalid("resource_missing", 404, "Something went wrong"), {"creating": True}, "invalid_payment_method"),
        (_invalid("charge_already_refunded", 400, "card_declined"), {"refund": True}, "charge_already_refunded"),
        (_invalid("amount_too_large", 400, "Try again later (rate limit)"), {"refund": True}, "amount_too_large"),
    ],
)
def test_invalid_requests_are_sorted_by_their_code(
    err: stripe.InvalidRequestError, kinds: dict[str, bool], expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(stripe.InvalidRequestError):
            answer_for(err, **kinds)
        return
    answer = answer_for(err, **kinds)
    assert isinstance(answer, Declined) and answer.code == expected


@pytest.mark.parametrize(
    ("err", "raised"),
    [
        (stripe.RateLimitError("The card was declined.", http_status=429), GatewayRateLimited),
        (stripe.APIConnectionError("Invalid API key provided"), TransientGatewayError),
        (stripe.AuthenticationError("Please try again shortly", http_status=401), GatewayMisconfigured),
        (stripe.PermissionError("card_declined", http_status=403), GatewayMisconfigured),
        (
            stripe.IdempotencyError(
                "Keys for idempotent requests can only be used with the same parameters", http_status=409
            ),
            TransientGatewayError,
        ),
        (stripe.IdempotencyError("A request with this key is still in flight", http_status=400), IdempotencyKeyReused),
        (_invalid("resource_missing", 404, "Keys for idempotent requests"), UnknownToGateway),
        (stripe.APIError("resource_missing", http_status=502), TransientGatewayError),
    ],
)
def test_other_errors_are_sorted_by_class_and_status(err: stripe.StripeError, raised: type[Exception]) -> None:
    with pytest.raises(raised):
        answer_for(err, reading=True)


def test_a_card_error_takes_stripes_decline_code_not_its_message() -> None:
    err = stripe.CardError(
        "Your card has insufficient funds.",
        None,
        "card_declined",
        http_status=402,
        json_body={
            "error": {"code": "card_declined", "decline_code": "expired_card", "type": "card_error", "charge": "ch_1"}
        },
    )
    answer = answer_for(err)
    assert isinstance(answer, Declined) and (answer.code, answer.charge) == ("expired_card", "ch_1")


# --- Secrets Manager's errors, through Powertools Parameters ------------------------------------------------


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("secretsmanager", region_name="us-east-2", aws_access_key_id="t", aws_secret_access_key="t")
    provider = SecretsProvider(boto3_client=client)
    monkeypatch.setattr(stripe_secrets, "_secrets_provider", lambda timeout: provider)
    with Stubber(client) as stub:
        yield stub


@pytest.mark.parametrize(
    ("code", "text", "raised"),
    [
        ("AccessDeniedException", "User is not allowed to do this", GatewayMisconfigured),
        ("ResourceNotFoundException", "Please retry", GatewayMisconfigured),
        ("DecryptionFailure", "Service is busy", GatewayMisconfigured),
        # Throttling and Secrets Manager's own 5xx are transient, whatever the message says.
        ("InternalServiceError", "KMS answered slowly; InvalidRequest retried", TransientGatewayError),
        ("ThrottlingException", "AccessDenied for now, rate exceeded", TransientGatewayError),
    ],
)
def test_a_failed_secret_read_is_sorted_by_the_aws_error_code(
    secrets: Stubber, code: str, text: str, raised: type[Exception]
) -> None:
    secrets.add_client_error("get_secret_value", service_error_code=code, service_message=text, http_status_code=400)
    with pytest.raises(raised):
        stripe_secrets.secret_key_reader("stripe/key", 60, 1.0)()


def test_a_secret_read_that_works_gives_the_key(secrets: Stubber) -> None:
    secrets.add_response("get_secret_value", {"SecretString": json.dumps({"api_key": "sk_test_1"})})
    assert stripe_secrets.secret_key_reader("stripe/key", 60, 1.0)() == "sk_test_1"


# --- Webhook signatures ----------------------------------------------------------------------------------------


def _signed(payload: str, *, age: int = 0, secret: str = SECRET) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=int(time.time()) - age)


@pytest.fixture(params=["as the SDK words them", "reworded"])
def sdk_messages(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The SDK's signature errors as they are, and with every message reworded (a text-only SDK change)."""
    if request.param == "reworded":
        original = stripe.WebhookSignature.verify_header

        def reworded(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            except stripe.SignatureVerificationError as err:
                raise stripe.SignatureVerificationError("Webhook check failed", err.sig_header) from None

        monkeypatch.setattr(stripe.WebhookSignature, "verify_header", staticmethod(reworded))
    return str(request.param)


@pytest.mark.parametrize(
    ("age", "secret", "why"),
    [
        (3600, SECRET, "stale_timestamp"),
        (0, "whsec_someone_else", "bad_signature"),
        (3600, "whsec_someone_else", "bad_signature"),
    ],
)
def test_a_refused_webhook_names_the_check_that_failed(sdk_messages: str, age: int, secret: str, why: str) -> None:
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "object": "event"})
    with pytest.raises(BadWebhook) as refused:
        verified_event(payload.encode(), _signed(payload, age=age, secret=secret), SECRET)
    assert refused.value.why == why


def test_a_fresh_signed_event_is_read(sdk_messages: str) -> None:
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "object": "event"})
    assert verified_event(payload.encode(), _signed(payload), SECRET)["id"] == "evt_1"
