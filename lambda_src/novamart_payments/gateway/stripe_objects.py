"""Stripe's objects (PaymentIntents, Refunds, Charges) read as the gateway port's answers.

A status read reports the object as it is; right after a confirm, an intent that is not decided yet is a transient
condition the redelivery resolves. Timestamps are Stripe's own (``created``), so an outcome event built from a
replayed answer is identical to the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from novamart_payments.gateway import GatewayResult, Outcome, RadarOutcome, TransientGatewayError
from novamart_payments.gateway.stripe_errors import decline_code
from novamart_payments.timestamps import from_epoch, utc_now


def object_id(value: Any) -> str | None:
    """Stripe returns linked objects as ids or, when expanded, as objects; None when there is none."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _when(obj: Mapping[str, Any]) -> str:
    created = obj.get("created")
    if not isinstance(created, int):
        return utc_now()
    return from_epoch(created)


def plain(obj: Any) -> dict[str, Any]:
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


def intent_result(answer: Any, *, settled_only: bool = True) -> GatewayResult:
    """The intent's state as the port's answer. Right after a confirm (``settled_only``), an intent that is not
    decided yet is a transient condition the redelivery resolves; a status read reports it as it is."""
    intent = plain(answer)
    status = intent["status"]
    when = _when(intent)
    order_id = (intent.get("metadata") or {}).get("orderId")
    if status == "succeeded":
        return GatewayResult(
            Outcome.APPROVED,
            object_id(intent.get("latest_charge")) or intent["id"],
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
        object_id(error.get("charge")) or intent["id"],
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


def refund_result(answer: Any) -> GatewayResult:
    refund = plain(answer)
    status = refund["status"]
    when = _when(refund)
    if status == "succeeded":
        return GatewayResult(Outcome.APPROVED, refund["id"], processed_at=when)
    if status in ("pending", "requires_action"):
        return GatewayResult(Outcome.PENDING, refund["id"], processed_at=when)
    reason = refund.get("failure_reason") or status
    return GatewayResult(Outcome.DECLINED, refund["id"], "refund_declined", f"Stripe refund {reason}.", when)
