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
  ``fraudulent``).

``install`` patches the localstripe modules in the serving process (``python -m tools.devstack stripe serve``)
only, before ``localstripe.server`` is imported: the server binds its extra routes to the functions it finds at
import time.
"""

from __future__ import annotations

from typing import Any

PENDING_REFUND_CARD = "4000000000007726"
DISPUTED_CARD = "4000000000000259"


def install() -> Any:
    """Patch localstripe and return its ``server`` module, with the extra route added."""
    import sys

    from localstripe import resources
    from localstripe.webhooks import schedule_webhook

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

    from localstripe import server

    return server
