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
- The secret key is read from Secrets Manager through Powertools Parameters with a cache TTL
  (``stripe_secrets``), so a rotated key is picked up without a deploy, and is never logged: the SDK's own logging
  stays off.
"""

from __future__ import annotations

import contextlib
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
    GatewayRateLimited,
    GatewayResult,
    Outcome,
    PaymentMethodRefused,
    RadarOutcome,
    RefundRequest,
    TransientGatewayError,
)
from novamart_payments.gateway.stripe_errors import Declined, answer_for
from novamart_payments.gateway.stripe_objects import intent_result, plain, refund_result
from novamart_payments.timestamps import utc_now

_API_VERSION = "2025-03-31.basil"


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
        if isinstance(intent, Declined):
            raise PaymentMethodRefused(GatewayResult(Outcome.DECLINED, None, intent.code, intent.reason, utc_now()))
        return str(intent.id)

    def release_charge(self, handle: str) -> None:
        """Cancel an intent nobody will confirm (it lost the race to be stored). Best effort: an unconfirmed
        intent holds no money, so a failure here costs nothing but a stray object at Stripe."""
        with contextlib.suppress(TransientGatewayError, stripe.StripeError):
            self._call(lambda c: c.v1.payment_intents.cancel(handle))

    def charge_status(self, handle: str) -> GatewayResult:
        return intent_result(
            self._call(lambda c: c.v1.payment_intents.retrieve(handle), reading=True), settled_only=False
        )

    def cancel_charge(self, handle: str) -> GatewayResult:
        """Cancel an unfinished intent. Stripe refuses to cancel one that succeeded or was canceled already; then
        the intent is read back, so the caller settles from what really happened."""
        answer = self._call(lambda c: c.v1.payment_intents.cancel(handle), unexpected_state_ok=True)
        if answer is None or isinstance(answer, Declined):
            answer = self._call(lambda c: c.v1.payment_intents.retrieve(handle))
        return intent_result(answer, settled_only=False)

    def refund_status(self, transaction_id: str) -> GatewayResult:
        return refund_result(self._call(lambda c: c.v1.refunds.retrieve(transaction_id), reading=True))

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult:
        confirm: PaymentIntentConfirmParams = {"off_session": True} if self._off_session else {}
        confirm["expand"] = ["latest_charge"]  # the charge's Radar outcome, in the same request
        answer = self._call(
            lambda c: c.v1.payment_intents.confirm(
                handle, params=confirm, options={"idempotency_key": f"{request.idempotency_key}:confirm"}
            ),
            unexpected_state_ok=True,
        )
        if isinstance(answer, Declined):
            # A card error on confirm: Stripe also left it on the intent, where a redelivery will read it.
            blocked = RadarOutcome("blocked") if answer.code == "radar_blocked" else None
            return GatewayResult(
                Outcome.DECLINED, answer.charge or handle, answer.code, answer.reason, utc_now(), radar=blocked
            )
        if answer is None:  # the intent was past confirmation: read what happened to it
            answer = self._call(lambda c: c.v1.payment_intents.retrieve(handle))
        return intent_result(answer)

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
        if isinstance(answer, Declined):
            return GatewayResult(Outcome.DECLINED, None, answer.code, answer.reason, utc_now())
        return refund_result(answer)

    def find_refund(self, request: RefundRequest) -> GatewayResult | None:
        """The refund an earlier attempt made for this refund id, if it got through (listed by its intent)."""
        page = self._call(lambda c: c.v1.refunds.list(params={"payment_intent": request.payment_handle, "limit": 100}))
        for refund in page.auto_paging_iter():
            if plain(refund.metadata or {}).get("refundId") == request.refund_id:
                return refund_result(refund)
        return None

    def find_outside_refund(self, handle: str, minor_units: int) -> GatewayResult | None:
        page = self._call(lambda c: c.v1.refunds.list(params={"payment_intent": handle, "limit": 100}))
        for refund in page.auto_paging_iter():
            fields = plain(refund)
            if "refundId" not in (fields.get("metadata") or {}) and fields.get("amount") == minor_units:
                result = refund_result(refund)
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
        except stripe.StripeError as err:
            return answer_for(err, **kinds)


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
