"""Stripe's errors sorted by whose fault they are, from the SDK's exception class and Stripe's ``code``,
``http_status`` and ``decline_code``: never from the message's words, which Stripe rewords at will.

- The card's (``CardError``, a refund refusal, an unknown payment method on create): an answer about the
  customer's money, returned as a ``Declined`` and published.
- The network's or Stripe's (a connection error, a 5xx, a 409 lock, a 429): transient, redelivered.
- Ours (a wrong key, a reused idempotency key): never published as the customer's failure, alarmed.
"""

from __future__ import annotations

import stripe

from novamart_payments.gateway import (
    GatewayMisconfigured,
    GatewayRateLimited,
    IdempotencyKeyReused,
    TransientGatewayError,
    UnknownToGateway,
)

# Stripe's card-error codes the service passes on as they are; any other decline becomes ``card_declined``, so the
# published enum stays closed while Stripe adds codes.
DECLINE_CODES = frozenset(
    {
        "card_declined",
        "insufficient_funds",
        "expired_card",
        "incorrect_cvc",
        "incorrect_number",
        "processing_error",
        "authentication_required",
    }
)
_REFUND_ERROR_CODES = frozenset({"charge_already_refunded", "charge_disputed", "amount_too_large"})


#: Stripe's ``decline_code`` of a charge Radar blocked (its outcome type ``blocked``): a fraud code of its own
#: (payment.failed 2.0), never a plain ``card_declined`` the storefront would answer by asking for another card.
RADAR_DECLINE_CODES = {"fraudulent": "radar_blocked"}


def decline_code(code: str | None, detail: str | None) -> str:
    """Stripe puts the precise reason of a generic ``card_declined`` into ``decline_code``."""
    if detail in RADAR_DECLINE_CODES:
        return RADAR_DECLINE_CODES[detail]
    for candidate in (detail, code):
        if candidate in DECLINE_CODES:
            return candidate
    if code in {"payment_method_not_available", "resource_missing", "payment_intent_payment_attempt_failed"}:
        return "invalid_payment_method"
    if code == "payment_intent_authentication_failure":
        return "authentication_required"
    return "card_declined"


#: What a create answers when Stripe does not know the payment method it names (the one object a create names).
UNKNOWN_PAYMENT_METHOD = ("invalid_payment_method", "The gateway does not know the payment method.")


class Declined:
    """An answer about the customer's money (a decline, a refused refund), as opposed to a failure of ours or of
    the network: ``code`` is the published failure code, ``charge`` the charge Stripe declined, if any."""

    __slots__ = ("charge", "code", "reason")

    def __init__(self, code: str, reason: str, charge: str | None) -> None:
        self.code, self.reason, self.charge = code, reason, charge


def message(err: stripe.StripeError, default: str) -> str:
    """Stripe's user-facing message names the problem without echoing card data (shown, never classified)."""
    return str(err.user_message or default)[:500]


def answer_for(err: stripe.StripeError, **kinds: bool) -> Declined | None:
    """The port's answer to a Stripe error of the call, or the port's exception (raised). ``kinds`` says what the
    call was: ``creating`` (a create, whose 404 names the payment method), ``reading`` (a status read, whose 404 is
    permanent), ``refund`` (whose refusals are declines), ``unexpected_state_ok`` (None: the intent moved on)."""
    if isinstance(err, stripe.CardError):
        detail = getattr(err, "error", None)
        return Declined(
            decline_code(err.code, getattr(detail, "decline_code", None)),
            message(err, "The card was declined."),
            getattr(detail, "charge", None),
        )
    if isinstance(err, stripe.RateLimitError):
        raise GatewayRateLimited("Stripe answered 429 (rate limit)")
    if isinstance(err, stripe.APIConnectionError):
        raise TransientGatewayError(f"Stripe unavailable: {type(err).__name__}")
    if isinstance(err, stripe.AuthenticationError | stripe.PermissionError):
        raise GatewayMisconfigured(f"Stripe refused our credentials: {type(err).__name__}")
    if isinstance(err, stripe.IdempotencyError):
        if err.http_status == 409:  # another request with the key is still in flight: try again later
            raise TransientGatewayError("Stripe: concurrent request with the same key")
        raise IdempotencyKeyReused(f"Stripe refused the idempotency key: {message(err, '')}")
    if isinstance(err, stripe.InvalidRequestError):
        if kinds.get("unexpected_state_ok") and (err.code in (None, "payment_intent_unexpected_state")):
            return None
        if kinds.get("refund") and err.code in _REFUND_ERROR_CODES:
            return Declined(err.code or "refund_declined", message(err, "Refund refused."), None)
        if kinds.get("creating") and (err.code == "resource_missing" or err.http_status == 404):
            # The only objects a create names are the payment method (and a Stripe customer): unknown.
            return Declined(*UNKNOWN_PAYMENT_METHOD, None)
        if kinds.get("reading") and (err.code == "resource_missing" or err.http_status == 404):
            # A read of an object Stripe does not have: permanent, so never retried (see UnknownToGateway).
            raise UnknownToGateway(f"Stripe has no such object ({err.http_status})")
        raise err
    if (err.http_status or 500) >= 500 or err.http_status == 409:  # 409: a lock or a key still in flight
        raise TransientGatewayError(f"Stripe answered {err.http_status}")
    raise err
