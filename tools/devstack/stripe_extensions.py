"""What real Stripe does and localstripe does not, added to the local Stripe so the later outcomes can be seen.

Each addition copies a documented behaviour of Stripe's test mode, switched on by the same test card number that
switches it on at Stripe, and sends the webhook Stripe sends:

- a failed 3-D Secure authentication sends ``payment_intent.payment_failed`` (localstripe sends nothing);
- a cancelled intent sends ``payment_intent.canceled``;
- card 4000000000007726: a refund starts ``pending`` and settles later. Stripe settles it on its own after a
  while; here ``POST /v1/refunds/{id}/_settle?status=succeeded|failed`` settles it now (a test control, like
  localstripe's own ``POST /v1/payment_intents/{id}/_authenticate``) and sends ``refund.updated`` and
  ``charge.refund.updated``;
- card 4000000000000259: the charge succeeds, then a dispute is opened (``charge.dispute.created``, reason
  ``fraudulent``);
- Radar (issue 20): card 4000000000005423 succeeds, then Radar raises an early fraud warning
  (``radar.early_fraud_warning.created``, actionable); 4100000000000019 (always blocked) and 4000000000004954
  (highest risk, blocked by Radar's default rule) are declined with ``decline_code`` ``fraudulent``, as Stripe
  declines a charge Radar blocked; 4000000000009235 (elevated risk) succeeds; a merchant closing a charge's Radar
  review as refunded as fraud (``POST /v1/payment_intents/{id}/_close_review_as_fraud``, a test control) refunds
  the rest of the charge without our metadata and sends ``review.closed`` (``refunded_as_fraud``);
- Stripe's documented test PaymentMethod ids (``pm_card_chargeDeclinedInsufficientFunds``, ...,
  ``TEST_PAYMENT_METHODS``) are answered whoever sends them (localstripe knows three), each as the test card
  Stripe documents behind it;
- a webhook delivery not answered 2xx is retried, signed anew each time (``stripe_webhook_retries``: Stripe's
  backoff of hours compressed to about half a minute);
- the documented decline cards decline when charged with Stripe's code and ``decline_code``
  (``DECLINED_CARDS``): localstripe declines most of them only when attached to a customer, and always as a bare
  ``card_declined``.

``install`` patches the localstripe modules in the serving process (``python -m tools.devstack stripe serve``)
only, before ``localstripe.server`` is imported: the server binds its extra routes to the functions it finds at
import time.
"""

from __future__ import annotations

from typing import Any

PENDING_REFUND_CARD = "4000000000007726"
DISPUTED_CARD = "4000000000000259"
EARLY_FRAUD_WARNING_CARD = "4000000000005423"
RADAR_BLOCKED_CARD = "4100000000000019"
RADAR_HIGHEST_RISK_CARD = "4000000000004954"
RADAR_ELEVATED_RISK_CARD = "4000000000009235"

#: Stripe's test PaymentMethod ids (docs.stripe.com/testing, "PaymentMethods" tabs) and the test card behind each.
#: American Express (15 digits) is left out: localstripe accepts 16-digit numbers only.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_threeDSecureRequired": "4000000000003063",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_createDispute": DISPUTED_CARD,
    "pm_card_radarBlock": RADAR_BLOCKED_CARD,
    "pm_card_riskLevelHighest": RADAR_HIGHEST_RISK_CARD,
    "pm_card_riskLevelElevated": RADAR_ELEVATED_RISK_CARD,
}

#: What charging each documented decline card answers at Stripe: (error code, decline_code, message).
DECLINED_CARDS = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": ("processing_error", "processing_error", "An error occurred while processing your card."),
    "4000000000006975": ("card_declined", "card_velocity_exceeded", "Your card was declined."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
    # Radar blocks: Stripe answers card_declined with decline_code fraudulent (the charge's outcome type blocked).
    RADAR_BLOCKED_CARD: ("card_declined", "fraudulent", "Your card was declined."),
    RADAR_HIGHEST_RISK_CARD: ("card_declined", "fraudulent", "Your card was declined."),
}


def radar_outcome(card: str | None) -> dict[str, Any]:
    """A charge's ``outcome`` as Stripe's test mode reports it: blocked for the Radar block cards, elevated risk for
    4000000000009235, normal otherwise."""
    if card in (RADAR_BLOCKED_CARD, RADAR_HIGHEST_RISK_CARD):
        return {"type": "blocked", "risk_level": "highest", "risk_score": 95, "network_status": "not_sent_to_network"}
    if card == RADAR_ELEVATED_RISK_CARD:
        return {
            "type": "authorized",
            "risk_level": "elevated",
            "risk_score": 67,
            "network_status": "approved_by_network",
        }
    return {"type": "authorized", "risk_level": "normal", "risk_score": 12, "network_status": "approved_by_network"}


def install() -> Any:
    """Patch localstripe and return its ``server`` module, with the extra route added."""
    import sys

    from localstripe import resources
    from localstripe.webhooks import schedule_webhook

    from tools.devstack.stripe_webhook_retries import install as install_webhook_retries

    if "localstripe.server" in sys.modules:
        raise RuntimeError("install() must run before localstripe.server is imported")

    event = resources.Event
    intent_cls, refund_cls = resources.PaymentIntent, resources.Refund

    def card_of(payment_method_id: str | None) -> str | None:
        if not payment_method_id:
            return None
        try:
            return str(resources.PaymentMethod._api_retrieve(payment_method_id)._card_number)
        except Exception:  # a source or token without a card number: none of ours
            return None

    class Dispute(resources.StripeObject):  # type: ignore[misc,name-defined]
        object = "dispute"
        _id_prefix = "dp_"

        def __init__(self, charge: Any, intent_id: str) -> None:
            super().__init__()
            self.charge = charge.id
            self.payment_intent = intent_id
            self.amount = charge.amount
            self.currency = charge.currency
            self.reason = "fraudulent"
            self.status = "needs_response"
            self.metadata: dict[str, str] = {}

    class EarlyFraudWarning(resources.StripeObject):  # type: ignore[misc,name-defined]
        object = "radar.early_fraud_warning"
        _id_prefix = "issfr_"

        def __init__(self, charge: Any, intent_id: str) -> None:
            super().__init__()
            self.charge = charge.id
            self.payment_intent = intent_id
            self.actionable = True
            self.fraud_type = "made_with_stolen_card"

    class Review(resources.StripeObject):  # type: ignore[misc,name-defined]
        object = "review"
        _id_prefix = "prv_"

        def __init__(self, charge: Any, intent_id: str, reason: str) -> None:
            super().__init__()
            self.charge = charge.id
            self.payment_intent = intent_id
            self.open = False
            self.reason = reason
            self.opened_reason = "rule"

    def close_review_as_fraud(id: str, **_: Any) -> Any:
        """The merchant closing a Radar review by refunding the charge as fraud (Dashboard): Stripe refunds the
        rest of the charge, with no metadata of ours, then sends ``review.closed`` (``refunded_as_fraud``)."""
        intent = intent_cls._api_retrieve(id)
        if intent.status != "succeeded" or intent.latest_charge is None:
            raise resources.UserError(400, "Bad request")
        refund_cls(payment_intent=id)
        review = Review(intent.latest_charge, id, "refunded_as_fraud")
        schedule_webhook(event("review.closed", review))
        return review

    original_charge_init = resources.Charge.__init__

    def charge_init(self: Any, *args: Any, **kwargs: Any) -> None:
        """Radar's ``outcome`` on every charge, as Stripe reports it for the documented test cards."""
        original_charge_init(self, *args, **kwargs)
        self.outcome = radar_outcome(card_of(getattr(self, "payment_method", None)))

    original_create = intent_cls._api_create.__func__

    def create(cls: Any, radar_options: Any = None, **data: Any) -> Any:
        """Stripe accepts ``radar_options[session]`` (a Radar Session from Stripe.js); localstripe knows no Radar:
        keep it on the intent, as Stripe shows it."""
        obj = original_create(cls, **data)
        if radar_options:
            obj.radar_options = dict(radar_options)
        return obj

    original_authenticate = intent_cls._api_authenticate.__func__

    def authenticate(cls: Any, id: str, client_secret: Any = None, success: Any = False, **kwargs: Any) -> Any:
        obj = original_authenticate(cls, id, client_secret=client_secret, success=success, **kwargs)
        if resources.try_convert_to_bool(success) is False:
            schedule_webhook(event("payment_intent.payment_failed", obj))
        return obj

    original_cancel = intent_cls._api_cancel.__func__

    def cancel(cls: Any, id: str, **kwargs: Any) -> Any:
        obj = original_cancel(cls, id, **kwargs)
        schedule_webhook(event("payment_intent.canceled", obj))
        return obj

    original_on_success = intent_cls._on_success

    def on_success(self: Any) -> None:
        original_on_success(self)
        if card_of(self.payment_method) == DISPUTED_CARD and self.latest_charge is not None:
            schedule_webhook(event("charge.dispute.created", Dispute(self.latest_charge, self.id)))
        if card_of(self.payment_method) == EARLY_FRAUD_WARNING_CARD and self.latest_charge is not None:
            warning = EarlyFraudWarning(self.latest_charge, self.id)
            schedule_webhook(event("radar.early_fraud_warning.created", warning))

    original_refund_init = refund_cls.__init__

    def refund_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_refund_init(self, *args, **kwargs)
        charge = resources.Charge._api_retrieve(self.charge)
        if card_of(getattr(charge, "payment_method", None)) == PENDING_REFUND_CARD:
            self.status = "pending"

    def settle(id: str, status: str = "succeeded", **_: Any) -> Any:
        refund = refund_cls._api_retrieve(id)
        if refund.status != "pending" or status not in ("succeeded", "failed"):
            raise resources.UserError(400, "Bad request")
        refund.status = status
        if status == "failed":
            refund.failure_reason = "lost_or_stolen_card"
        schedule_webhook(event("refund.updated", refund))
        schedule_webhook(event("charge.refund.updated", refund))
        return refund

    _answer_test_payment_methods(resources)

    resources.Charge.__init__ = charge_init
    intent_cls._api_create = classmethod(create)
    intent_cls._api_authenticate = classmethod(authenticate)
    intent_cls._api_cancel = classmethod(cancel)
    intent_cls._on_success = on_success
    refund_cls.__init__ = refund_init
    replaced = {
        "/v1/payment_intents/{id}/_authenticate": intent_cls._api_authenticate,
        "/v1/payment_intents/{id}/cancel": intent_cls._api_cancel,
    }
    resources.extra_apis[:] = [(method, url, replaced.get(url, func)) for method, url, func in resources.extra_apis]
    resources.extra_apis.append(("POST", "/v1/refunds/{id}/_settle", settle))
    resources.extra_apis.append(("POST", "/v1/payment_intents/{id}/_close_review_as_fraud", close_review_as_fraud))
    install_webhook_retries()

    from localstripe import server

    return server


def _answer_test_payment_methods(resources: Any) -> None:
    """Stripe's test PaymentMethod ids resolve to their test cards, and the decline cards decline when charged
    with Stripe's codes (``TEST_PAYMENT_METHODS``, ``DECLINED_CARDS``)."""
    method_cls, charge_cls, intent_cls = resources.PaymentMethod, resources.Charge, resources.PaymentIntent

    def canonical(cls: Any, id: str) -> Any:
        number = TEST_PAYMENT_METHODS.get(id)
        if number is None:
            return None
        # Stripe turns a test id into a stored PaymentMethod on use (localstripe does the same for its three).
        return method_cls(type="card", card={"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"})

    original_declined = method_cls._charging_is_declined

    def charging_is_declined(self: Any) -> bool:
        return bool(original_declined(self)) or (self.type == "card" and self._card_number in DECLINED_CARDS)

    def decline_of(charge: Any) -> tuple[str, str, str] | None:
        try:
            method = method_cls._api_retrieve(charge.payment_method)
        except Exception:  # a source without a card number: localstripe's own answer stands
            return None
        return DECLINED_CARDS.get(getattr(method, "_card_number", ""))

    original_auth_failure = charge_cls._set_auth_failure

    def set_auth_failure(self: Any) -> None:
        original_auth_failure(self)
        decline = decline_of(self)
        if decline is not None:
            self.failure_code, self._decline_code, self.failure_message = decline

    def raise_failure(self: Any) -> None:
        details = {"code": self.failure_code, "charge": self.id}
        if getattr(self, "_decline_code", None):
            details["decline_code"] = self._decline_code
        raise resources.UserError(402, self.failure_message, details)

    original_last_error = intent_cls.last_payment_error

    def last_payment_error(self: Any) -> Any:
        error = original_last_error.fget(self)
        code = getattr(self.latest_charge, "_decline_code", None) if self.latest_charge is not None else None
        if error and code and "charge" in error:
            return {**error, "decline_code": code}
        return error

    method_cls._try_get_canonical_test_article = classmethod(canonical)
    method_cls._charging_is_declined = charging_is_declined
    charge_cls._set_auth_failure = set_auth_failure
    charge_cls._raise_failure = raise_failure
    intent_cls.last_payment_error = property(last_payment_error)
