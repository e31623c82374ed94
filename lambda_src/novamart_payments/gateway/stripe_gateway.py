"""The production gateway: Stripe PaymentIntents and Refunds through the official ``stripe`` SDK.

Why the calls look the way they do:

- A charge is a PaymentIntent created unconfirmed (``begin_charge``: no money moves), stored on the order's
  PENDING record, then confirmed (``complete_charge``). A PaymentIntent succeeds at most once, so confirming the
  stored intent again, from a redelivery or a DLQ redrive days later when Stripe's 24 h idempotency keys have
  expired, can never charge twice. A confirm that finds the intent already past confirmation reads it back and
  reports its status instead.
- Idempotency keys still go on every money-moving request (they protect the SDK's own network retries), but
  nothing relies on them: the local Stripe-compatible server ignores them.
- Errors are sorted by whose fault they are: the card's (a decline, published), the network's or Stripe's
  (transient, redelivered), ours (wrong key: never published as the customer's failure, alarmed).
- The secret key is read from Secrets Manager through Powertools Parameters with a cache TTL, so a rotated key is
  picked up without a deploy, and is never logged: the SDK's own logging stays off.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import stripe

if TYPE_CHECKING:
    from stripe.params._payment_intent_confirm_params import PaymentIntentConfirmParams
    from stripe.params._payment_intent_create_params import PaymentIntentCreateParams
    from stripe.params._refund_create_params import RefundCreateParams

from novamart_payments.gateway import (
    ChargeRequest,
    GatewayMisconfigured,
    GatewayRateLimited,
    GatewayResult,
    IdempotencyKeyReused,
    Outcome,
    PaymentMethodRefused,
    RadarOutcome,
    RefundRequest,
    TransientGatewayError,
    UnknownToGateway,
)
from novamart_payments.timestamps import from_epoch, utc_now

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
_API_VERSION = "2025-03-31.basil"
_OUR_FAULT = ("AccessDenied", "ResourceNotFound", "DecryptionFailure", "InvalidRequest", "KMS")


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


def radar_metadata(request: ChargeRequest) -> dict[str, str]:
    """The order's optional risk context as PaymentIntent metadata, which Radar rules can read (``::clientIp::``)."""
    c = request.context
    fields = {
        "clientIp": c.client_ip,
        "emailSha256": c.email_sha256,
        "shippingCountry": c.shipping_country,
        "sessionId": c.session_id,
    }
    return {k: v for k, v in fields.items() if v}


class StripeGateway:
    """``PaymentGateway`` on Stripe. ``api_key`` is called for every client build, so a rotated secret is used
    as soon as the Parameters cache expires."""

    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        api_base: str | None = None,
        timeout_seconds: float = 8.0,
        max_network_retries: int = 0,
        off_session: bool = False,
        http_client: stripe.HTTPClient | None = None,
        before_request: Callable[[], None] | None = None,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._timeout = timeout_seconds
        self._retries = max_network_retries
        self._off_session = off_session
        self._http_client = http_client
        self._before_request = before_request
        self._lock = threading.Lock()
        self._client: tuple[str, stripe.StripeClient] | None = None
        self._paced = _PacedClient(timeout_seconds, before_request)

    def _watch(self) -> _PacedClient | None:
        """The HTTP client, watching this thread's next call (None: an injected client, which is not watched)."""
        if self._http_client is not None:
            return None
        self._paced.watch()
        return self._paced

    # --- the port ----------------------------------------------------------------------------------------

    def begin_charge(self, request: ChargeRequest) -> str:
        params: PaymentIntentCreateParams = {
            "amount": request.amount.minor_units,
            "currency": request.amount.currency.lower(),
            "payment_method": request.token,
            # Cards only: no redirect-based method, so no return_url is needed off-session. Still in Stripe's API,
            # absent from the SDK's typed params.
            "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
            "capture_method": "automatic",
            "metadata": {
                "orderId": request.order_id,
                "paymentId": request.payment_id,
                "correlationId": request.correlation_id,
            },
        }
        if request.customer_id.startswith("cus_"):  # a Stripe customer id (ours are NovaMart's own otherwise)
            params["customer"] = request.customer_id
        params["metadata"].update(radar_metadata(request))
        session = request.context.session_id or ""
        if session.startswith("rse_"):  # a Radar Session made by Stripe.js
            params["radar_options"] = {"session": session}
        intent = self._call(
            lambda c: c.v1.payment_intents.create(params=params, options={"idempotency_key": request.idempotency_key}),
            creating=True,
        )
        if isinstance(intent, _Declined):
            raise PaymentMethodRefused(GatewayResult(Outcome.DECLINED, None, intent.code, intent.reason, utc_now()))
        return str(intent.id)

    def release_charge(self, handle: str) -> None:
        """Cancel an intent nobody will confirm (it lost the race to be stored). Best effort: an unconfirmed
        intent holds no money, so a failure here costs nothing but a stray object at Stripe."""
        with contextlib.suppress(TransientGatewayError, stripe.StripeError):
            self._call(lambda c: c.v1.payment_intents.cancel(handle))

    def charge_status(self, handle: str) -> GatewayResult:
        return _intent_result(
            self._call(lambda c: c.v1.payment_intents.retrieve(handle), reading=True), settled_only=False
        )

    def cancel_charge(self, handle: str) -> GatewayResult:
        """Cancel an unfinished intent. Stripe refuses to cancel one that succeeded or was canceled already; then
        the intent is read back, so the caller settles from what really happened."""
        answer = self._call(lambda c: c.v1.payment_intents.cancel(handle), unexpected_state_ok=True)
        if answer is None or isinstance(answer, _Declined):
            answer = self._call(lambda c: c.v1.payment_intents.retrieve(handle))
        return _intent_result(answer, settled_only=False)

    def refund_status(self, transaction_id: str) -> GatewayResult:
        return _refund_result(self._call(lambda c: c.v1.refunds.retrieve(transaction_id), reading=True))

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult:
        confirm: PaymentIntentConfirmParams = {"off_session": True} if self._off_session else {}
        confirm["expand"] = ["latest_charge"]  # the charge's Radar outcome, in the same request
        answer = self._call(
            lambda c: c.v1.payment_intents.confirm(
                handle, params=confirm, options={"idempotency_key": f"{request.idempotency_key}:confirm"}
            ),
            unexpected_state_ok=True,
        )
        if isinstance(answer, _Declined):
            # A card error on confirm: Stripe also left it on the intent, where a redelivery will read it.
            blocked = RadarOutcome("blocked") if answer.code == "radar_blocked" else None
            return GatewayResult(
                Outcome.DECLINED, answer.charge or handle, answer.code, answer.reason, utc_now(), radar=blocked
            )
        if answer is None:  # the intent was past confirmation: read what happened to it
            answer = self._call(lambda c: c.v1.payment_intents.retrieve(handle))
        return _intent_result(answer)

    def refund(self, request: RefundRequest) -> GatewayResult:
        """Create the refund. Raises ``GatewayRateLimited`` only when nothing can have been refunded: every HTTP
        request of the call (the SDK's retries included) was refused by the request budget or answered 429. A
        429 after an attempt that got another answer, or none, may follow a refund that went through: that is
        an ordinary transient failure, and the next delivery asks before it refunds again."""
        params: RefundCreateParams = {
            "payment_intent": request.payment_handle,
            "amount": request.amount.minor_units,
            "metadata": {"orderId": request.order_id, "refundId": request.refund_id},
        }
        watch = self._watch()
        try:
            answer = self._call(
                lambda c: c.v1.refunds.create(params=params, options={"idempotency_key": request.idempotency_key}),
                refund=True,
            )
        except GatewayRateLimited as limited:
            if watch.answered() if watch is not None else self._retries > 0:
                raise TransientGatewayError(f"{limited} after an attempt that may have gone through") from None
            raise
        if isinstance(answer, _Declined):
            return GatewayResult(Outcome.DECLINED, None, answer.code, answer.reason, utc_now())
        return _refund_result(answer)

    def find_refund(self, request: RefundRequest) -> GatewayResult | None:
        """The refund an earlier attempt made for this refund id, if it got through (listed by its intent)."""
        page = self._call(lambda c: c.v1.refunds.list(params={"payment_intent": request.payment_handle, "limit": 100}))
        for refund in page.auto_paging_iter():
            if _plain(refund.metadata or {}).get("refundId") == request.refund_id:
                return _refund_result(refund)
        return None

    def find_outside_refund(self, handle: str, minor_units: int) -> GatewayResult | None:
        page = self._call(lambda c: c.v1.refunds.list(params={"payment_intent": handle, "limit": 100}))
        for refund in page.auto_paging_iter():
            plain = _plain(refund)
            if "refundId" not in (plain.get("metadata") or {}) and plain.get("amount") == minor_units:
                result = _refund_result(refund)
                if result.outcome is not Outcome.DECLINED:
                    return result
        return None

    # --- plumbing ----------------------------------------------------------------------------------------

    def _stripe(self) -> stripe.StripeClient:
        key = self._api_key()
        with self._lock:
            if self._client is None or self._client[0] != key:
                client = stripe.StripeClient(
                    key,
                    stripe_version=_API_VERSION,
                    base_addresses={"api": self._api_base} if self._api_base else {},
                    max_network_retries=self._retries,
                    http_client=self._http_client or self._paced,
                )
                self._client = (key, client)
            return self._client[1]

    def _call(self, action: Callable[[stripe.StripeClient], Any], **kinds: bool) -> Any:
        try:
            return action(self._stripe())
        except stripe.CardError as err:
            detail = getattr(err, "error", None)
            return _Declined(
                decline_code(err.code, getattr(detail, "decline_code", None)),
                _message(err, "The card was declined."),
                getattr(detail, "charge", None),
            )
        except stripe.RateLimitError:
            raise GatewayRateLimited("Stripe answered 429 (rate limit)") from None
        except stripe.APIConnectionError as err:
            raise TransientGatewayError(f"Stripe unavailable: {type(err).__name__}") from None
        except (stripe.AuthenticationError, stripe.PermissionError) as err:
            raise GatewayMisconfigured(f"Stripe refused our credentials: {type(err).__name__}") from None
        except stripe.IdempotencyError as err:
            if err.http_status == 409:  # another request with the key is still in flight: try again later
                raise TransientGatewayError("Stripe: concurrent request with the same key") from None
            raise IdempotencyKeyReused(f"Stripe refused the idempotency key: {_message(err, '')}") from None
        except stripe.InvalidRequestError as err:
            if kinds.get("unexpected_state_ok") and (err.code in (None, "payment_intent_unexpected_state")):
                return None
            if kinds.get("refund") and err.code in _REFUND_ERROR_CODES:
                return _Declined(err.code or "refund_declined", _message(err, "Refund refused."), None)
            if kinds.get("creating") and (err.code == "resource_missing" or err.http_status == 404):
                # The only objects a create names are the payment method (and a Stripe customer): unknown.
                return _Declined("invalid_payment_method", "The gateway does not know the payment method.", None)
            if kinds.get("reading") and (err.code == "resource_missing" or err.http_status == 404):
                # A read of an object Stripe does not have: permanent, so never retried (see UnknownToGateway).
                raise UnknownToGateway(f"Stripe has no such object ({err.http_status})") from None
            raise
        except stripe.StripeError as err:
            if (err.http_status or 500) >= 500 or err.http_status == 409:  # 409: a lock or a key still in flight
                raise TransientGatewayError(f"Stripe answered {err.http_status}") from None
            raise


class _PacedClient(stripe.RequestsClient):
    """The SDK's HTTP client, asking the shared request budget (``novamart_payments.budget``) before every HTTP
    request it sends, its own retries included: the budget counts what Stripe counts."""

    def __init__(self, timeout: float, before_request: Callable[[], None] | None) -> None:
        super().__init__(timeout=timeout)
        self._before_request = before_request
        self._seen = threading.local()

    def watch(self) -> None:
        """Start noting, for this thread, whether a request got an answer other than 429, or none at all."""
        self._seen.answered = False

    def answered(self) -> bool:
        return bool(getattr(self._seen, "answered", True))

    def request(  # type: ignore[override]  # RequestsClient narrows HTTPClient's signature itself
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if self._before_request is not None:
            self._before_request()  # a spent budget raises here, before anything is sent
        try:
            content, status, answer_headers = super().request(method, url, headers, post_data)
        except BaseException:
            self._seen.answered = True  # sent, maybe carried out, answer lost
            raise
        if status != 429:
            self._seen.answered = True
        return content, status, answer_headers


class _Declined:
    __slots__ = ("charge", "code", "reason")

    def __init__(self, code: str, reason: str, charge: str | None) -> None:
        self.code, self.reason, self.charge = code, reason, charge


def _message(err: stripe.StripeError, default: str) -> str:
    # Stripe's user-facing message names the problem without echoing card data.
    return str(err.user_message or default)[:500]


def _id(value: Any) -> str | None:
    """Stripe returns linked objects as ids or, when expanded, as objects."""
    if value is None:
        return None
    return str(value if isinstance(value, str) else value["id"])


def _when(obj: Mapping[str, Any]) -> str:
    created = obj.get("created")
    if not isinstance(created, int):
        return utc_now()
    return from_epoch(created)


def _plain(obj: Any) -> dict[str, Any]:
    """SDK objects are not dicts (``.get`` raises): read them as plain, recursively converted dicts."""
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


def _action_kind(intent: Mapping[str, Any]) -> str:
    """The kind of action the customer must take, in the published event's words."""
    action = intent.get("next_action") or {}
    kind = action.get("type")
    if kind == "use_stripe_sdk":  # cards: 3-D Secure through Stripe.js
        return "three_d_secure"
    if kind == "redirect_to_url":
        return "redirect"
    return "other"


def _intent_result(answer: Any, *, settled_only: bool = True) -> GatewayResult:
    """The intent's state as the port's answer. Right after a confirm (``settled_only``), an intent that is not
    decided yet is a transient condition the redelivery resolves; a status read reports it as it is."""
    intent = _plain(answer)
    status = intent["status"]
    when = _when(intent)
    order_id = (intent.get("metadata") or {}).get("orderId")
    if status == "succeeded":
        return GatewayResult(
            Outcome.APPROVED,
            _id(intent.get("latest_charge")) or intent["id"],
            processed_at=when,
            order_id=order_id,
            radar=_radar(intent.get("latest_charge")),
        )
    if status in ("processing", "requires_capture") or (status == "requires_confirmation" and settled_only):
        if settled_only:
            raise TransientGatewayError(f"payment intent is {status}")
        return GatewayResult(Outcome.PENDING, intent["id"], processed_at=when, order_id=order_id)
    if status == "requires_confirmation":
        return GatewayResult(Outcome.NOT_STARTED, intent["id"], processed_at=when, order_id=order_id)
    if status == "requires_action":
        # 3-D Secure: the customer must come back on-session (the storefront reads the intent with its own key;
        # the client secret never leaves Stripe through us). The outcome arrives later, by webhook.
        return GatewayResult(
            Outcome.REQUIRES_ACTION, intent["id"], processed_at=when, action=_action_kind(intent), order_id=order_id
        )
    if status == "canceled":
        return GatewayResult(
            Outcome.DECLINED, intent["id"], "payment_canceled", "The payment was canceled.", when, order_id=order_id
        )
    error = intent.get("last_payment_error") or {}
    return GatewayResult(
        Outcome.DECLINED,
        _id(error.get("charge")) or intent["id"],
        decline_code(error.get("code"), error.get("decline_code")),
        str(error.get("message") or "The card was declined.")[:500],
        when,
        order_id=order_id,
    )


def _radar(charge: Any) -> RadarOutcome | None:
    """Radar's ``outcome`` of an expanded charge (None when the charge was not expanded or has none)."""
    outcome = charge.get("outcome") if isinstance(charge, dict) else None
    if not isinstance(outcome, dict) or not isinstance(outcome.get("type"), str):
        return None
    score = outcome.get("risk_score")
    level = outcome.get("risk_level")
    return RadarOutcome(
        str(outcome["type"]), str(level) if level is not None else None, int(score) if isinstance(score, int) else None
    )


def _refund_result(answer: Any) -> GatewayResult:
    refund = _plain(answer)
    status = refund["status"]
    when = _when(refund)
    if status == "succeeded":
        return GatewayResult(Outcome.APPROVED, refund["id"], processed_at=when)
    if status in ("pending", "requires_action"):
        return GatewayResult(Outcome.PENDING, refund["id"], processed_at=when)
    reason = refund.get("failure_reason") or status
    return GatewayResult(Outcome.DECLINED, refund["id"], "refund_declined", f"Stripe refund {reason}.", when)


@functools.cache
def _secrets_provider(timeout: float) -> Any:
    """Built from the process's one boto3 session: without one, Powertools makes a session of its own, which loads
    botocore's endpoint and partition data a second time on the first event (docs/performance.md, cold start)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config as BotoConfig

    from novamart_payments import clients

    config = BotoConfig(connect_timeout=timeout, read_timeout=timeout)
    return SecretsProvider(boto3_session=clients._session(), boto_config=config)


def secret_key_reader(
    secret_id: str,
    max_age_seconds: int,
    timeout: float,
    *,
    field: str = "api_key",
    prefixes: tuple[str, ...] = ("sk_", "rk_"),
) -> Callable[[], str]:
    """Read the key through Powertools Parameters (cached for ``max_age_seconds``). The secret may be the bare key
    or a JSON object with ``field``; anything else is our misconfiguration, reported without the value. The
    webhook function reads its signing secret (``whsec_``) the same way."""

    def read() -> str:
        import json

        try:
            raw = str(_secrets_provider(timeout).get(secret_id, max_age=max_age_seconds))
        except Exception as err:  # the Parameters provider wraps boto errors in its own, naming the AWS code
            if any(code in str(err) for code in _OUR_FAULT):
                raise GatewayMisconfigured(f"cannot read the Stripe key secret: {type(err).__name__}") from None
            raise TransientGatewayError("Secrets Manager unavailable") from None
        value = raw.strip()
        if value.startswith("{"):
            value = str(json.loads(value).get(field, ""))
        if not value.startswith(prefixes):
            raise GatewayMisconfigured(f"the secret does not hold a Stripe {'/'.join(prefixes)} value")
        return value

    return read
