"""Stripe's webhooks, read: the signature checked by the SDK, and each event turned into a gateway-neutral notice.

Only the kinds of event that can finish or change a record become notices; Stripe sends others to an endpoint
that subscribes widely, and those are acknowledged and ignored. A notice carries ids only: the service asks
Stripe for the object's state before it acts (see ``novamart_payments.settlement``).
"""

from __future__ import annotations

from typing import Any

import stripe

from novamart_payments.domain import Dispute, Money
from novamart_payments.gateway.stripe_objects import object_id
from novamart_payments.ports import (
    ChargeNotice,
    DisputeNotice,
    FraudWarningNotice,
    Notice,
    RefundNotice,
    ReviewNotice,
)
from novamart_payments.timestamps import from_epoch

#: Stripe signs ``t=<unix time>`` into the header; an event older than this is refused as a possible replay.
TOLERANCE_SECONDS = 300
_REASON_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")


class BadWebhook(Exception):
    """The request is not a genuine, fresh Stripe event; ``why`` names the check that failed (never the body)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def verified_event(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, once its ``Stripe-Signature`` proves it came from Stripe within the tolerance."""
    if not signature:
        raise BadWebhook("missing_signature")
    # Which check failed is told by which call failed, never by the SDK's message: first the signature alone (no
    # tolerance), then the full check, where only the timestamp is left to fail.
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret)
    except stripe.SignatureVerificationError:
        raise BadWebhook("bad_signature") from None
    except UnicodeDecodeError:
        raise BadWebhook("not_json") from None
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        raise BadWebhook("stale_timestamp") from None
    except (ValueError, UnicodeDecodeError):
        raise BadWebhook("not_json") from None
    plain: dict[str, Any] = dict(event.to_dict())
    if not isinstance(plain.get("id"), str) or not isinstance(plain.get("type"), str):
        raise BadWebhook("not_an_event")
    return plain


def notices_of(event: dict[str, Any]) -> list[Notice]:
    """What the event is about, or nothing when it cannot change a record of ours."""
    kind = event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    if kind.startswith("payment_intent.") and obj.get("object") == "payment_intent":
        return [ChargeNotice(str(obj["id"]), (obj.get("metadata") or {}).get("orderId"))]
    if kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
        return [_refund_notice(obj)] if obj.get("object") == "refund" else []
    if kind == "charge.refunded" and obj.get("object") == "charge":
        refunds = (obj.get("refunds") or {}).get("data") or []  # embedded in older API versions only
        return [_refund_notice(r) for r in refunds if isinstance(r, dict) and r.get("object") == "refund"]
    if kind == "charge.dispute.created" and obj.get("object") == "dispute":
        return _dispute_notice(obj)
    if kind in ("radar.early_fraud_warning.created", "radar.early_fraud_warning.updated"):
        handle = object_id(obj.get("payment_intent"))
        if obj.get("object") != "radar.early_fraud_warning" or handle is None or not isinstance(obj.get("id"), str):
            return []
        return [FraudWarningNotice(handle, str(obj["id"]), bool(obj.get("actionable")))]
    if kind in ("review.opened", "review.closed") and obj.get("object") == "review":
        handle = object_id(obj.get("payment_intent"))
        if handle is None or not isinstance(obj.get("id"), str):
            return []
        reason = str(obj.get("reason") or "other")
        reason = reason if len(reason) <= 64 and set(reason) <= _REASON_CHARS else "other"
        return [ReviewNotice(handle, str(obj["id"]), kind == "review.opened", reason)]
    return []


def _refund_notice(refund: dict[str, Any]) -> RefundNotice:
    return RefundNotice(str(refund["id"]), (refund.get("metadata") or {}).get("refundId"))


def _dispute_notice(dispute: dict[str, Any]) -> list[Notice]:
    handle, charge = object_id(dispute.get("payment_intent")), object_id(dispute.get("charge"))
    amount, currency = dispute.get("amount"), dispute.get("currency")
    if handle is None or charge is None or not isinstance(amount, int) or not isinstance(currency, str):
        return []
    reason = str(dispute.get("reason") or "general")
    if not reason or len(reason) > 64 or not set(reason) <= _REASON_CHARS:
        reason = "general"
    created = dispute.get("created")
    return [
        DisputeNotice(
            handle,
            Dispute(
                dispute_id=str(dispute["id"]),
                transaction_id=charge,
                amount=Money(amount, currency.upper()),
                reason=reason,
                opened_at=from_epoch(created if isinstance(created, int) else 0),
            ),
        )
    ]
