"""An in-process gateway for fast unit and reliability tests only; it can never be deployed to AWS.

It protects nothing on the service's behalf, on purpose: like the local Stripe-compatible server, it ignores
idempotency keys (every ``begin_charge`` makes a new handle, every ``refund`` moves money again) and caps no
refund at the captured amount. What it does keep is the one property every real gateway has: a handle succeeds at
most once. So the tests that count money movements per order here prove the service's own guarantees.

Tokens choose the outcome the way Stripe's test payment methods do: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined…`` declines, ``pm_card_threeDSecure2Required`` waits for the customer to authenticate
(3-D Secure; ``authenticate`` plays the customer), and
``pm_sim_transient<N>_<base>`` fails transiently N times per handle, then behaves like ``pm_card_<base>``.

Why never on AWS: the ledger lives in the process, and the payment and refund functions run in different
containers, so a refund there would never find its charge (``terraform/envs/aws`` refuses the mode). The ledger
is bounded (the oldest orders are forgotten first) so a long load test cannot grow memory without limit.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from novamart_payments.domain import Money
from novamart_payments.gateway import (
    ChargeRequest,
    GatewayResult,
    Outcome,
    RefundRequest,
    TransientGatewayError,
    UnknownToGateway,
)
from novamart_payments.timestamps import utc_now

_DECLINES: dict[str, tuple[str, str]] = {
    "chargeDeclined": ("card_declined", "The card was declined."),
    "chargeDeclinedInsufficientFunds": ("insufficient_funds", "The card has insufficient funds."),
    "chargeDeclinedExpiredCard": ("expired_card", "The card has expired."),
    "chargeDeclinedProcessingError": ("processing_error", "An error occurred while processing the card."),
}
_THREE_D_SECURE = "threeDSecure2Required"
MAX_ORDERS = 10_000


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One money movement the gateway really made; tests count these per order to prove exactly-once."""

    kind: str  # "charge" | "refund"
    order_id: str
    transaction_id: str
    amount: Money
    handle: str  # the charge's handle, for both kinds
    refund_id: str | None = None


@dataclass
class _Intent:
    request: ChargeRequest
    result: GatewayResult | None = None
    transient_seen: int = 0
    confirmed: bool = False


@dataclass
class SimulatedGateway:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _intents: OrderedDict[str, _Intent] = field(default_factory=OrderedDict)
    _ledger: OrderedDict[str, list[LedgerEntry]] = field(default_factory=OrderedDict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    max_orders: int = MAX_ORDERS

    def begin_charge(self, request: ChargeRequest) -> str:
        with self._lock:
            handle = f"pi_sim{next(self._ids):012d}"  # Stripe-shaped: pi_ + alphanumerics
            self._intents[handle] = _Intent(request)
            while len(self._intents) > self.max_orders * 2:
                self._intents.popitem(last=False)
            return handle

    def release_charge(self, handle: str) -> None:
        with self._lock:
            intent = self._intents.get(handle)
            if intent is not None and intent.result is None:
                del self._intents[handle]

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult:
        with self._lock:
            intent = self._intents.get(handle)
            if intent is None:
                return _invalid_payment_method("Unknown payment handle.")
            if intent.result is not None:  # a handle is decided once; later calls read the decision back
                return intent.result
            base = _base_outcome(intent, request.token)
            intent.confirmed = True
            if base == _THREE_D_SECURE:
                # Not decided: the customer must authenticate first (``authenticate``), so no result is kept yet.
                return GatewayResult(Outcome.REQUIRES_ACTION, handle, processed_at=utc_now(), action="three_d_secure")
            if base in _DECLINES:
                code, reason = _DECLINES[base]
                result = GatewayResult(Outcome.DECLINED, f"ch_sim_{handle[6:]}", code, reason, utc_now())
            elif base.startswith(("visa", "mastercard", "amex")):
                txn = f"ch_sim_{handle[6:]}"
                self._append(LedgerEntry("charge", request.order_id, txn, request.amount, handle))
                result = GatewayResult(Outcome.APPROVED, txn, processed_at=utc_now())
            else:
                result = _invalid_payment_method("The payment method is not known.")
            intent.result = result
            return result

    def refund(self, request: RefundRequest) -> GatewayResult:
        with self._lock:
            intent = self._intents.get(request.payment_handle)
            if intent is None or intent.result is None or not intent.result.approved:
                return GatewayResult(Outcome.DECLINED, None, "charge_not_found", "No such charge at the gateway.")
            txn = f"re_sim_{next(self._ids):012d}"
            self._append(
                LedgerEntry("refund", request.order_id, txn, request.amount, request.payment_handle, request.refund_id)
            )
            return GatewayResult(Outcome.APPROVED, txn, processed_at=utc_now())

    def find_refund(self, request: RefundRequest) -> GatewayResult | None:
        with self._lock:
            for entry in self._ledger.get(request.order_id, []):
                if entry.kind == "refund" and entry.refund_id == request.refund_id:
                    return GatewayResult(Outcome.APPROVED, entry.transaction_id, processed_at=utc_now())
            return None

    def find_outside_refund(self, handle: str, minor_units: int) -> GatewayResult | None:
        """The simulator has no Dashboard and no Radar reviews: every refund in its ledger is the service's."""
        return None

    def charge_status(self, handle: str) -> GatewayResult:
        with self._lock:
            intent = self._intents.get(handle)
            if intent is None:
                raise UnknownToGateway(f"no payment attempt {handle}")
            if intent.result is not None:
                return intent.result
            if _base_outcome(intent, intent.request.token, count=False) == _THREE_D_SECURE and intent.confirmed:
                return GatewayResult(Outcome.REQUIRES_ACTION, handle, processed_at=utc_now(), action="three_d_secure")
            return GatewayResult(Outcome.NOT_STARTED, handle, processed_at=utc_now())

    def cancel_charge(self, handle: str) -> GatewayResult:
        with self._lock:
            intent = self._intents.get(handle)
            if intent is not None and intent.result is None:
                intent.result = GatewayResult(
                    Outcome.DECLINED, handle, "payment_canceled", "The payment was canceled.", utc_now()
                )
        return self.charge_status(handle)

    def refund_status(self, transaction_id: str) -> GatewayResult:
        with self._lock:
            for entry in self.ledger_unlocked():
                if entry.kind == "refund" and entry.transaction_id == transaction_id:
                    return GatewayResult(Outcome.APPROVED, transaction_id, processed_at=utc_now())
        raise UnknownToGateway(f"no refund {transaction_id}")

    def authenticate(self, handle: str, *, success: bool) -> None:
        """Play the customer completing (or failing) 3-D Secure for a handle waiting on it."""
        with self._lock:
            intent = self._intents[handle]
            if intent.result is not None:
                raise ValueError(f"{handle} is not waiting for authentication")
            if success:
                txn = f"ch_sim_{handle[6:]}"
                self._append(LedgerEntry("charge", intent.request.order_id, txn, intent.request.amount, handle))
                intent.result = GatewayResult(Outcome.APPROVED, txn, processed_at=utc_now())
            else:
                intent.result = GatewayResult(
                    Outcome.DECLINED,
                    handle,
                    "authentication_required",
                    "The customer failed authentication.",
                    utc_now(),
                )

    def ledger_unlocked(self) -> list[LedgerEntry]:
        return [e for entries in self._ledger.values() for e in entries]

    def movements(self, order_id: str) -> list[LedgerEntry]:
        """Every charge and refund the gateway made for one order, whatever key or handle they came with."""
        with self._lock:
            return list(self._ledger.get(order_id, []))

    def ledger(self) -> list[LedgerEntry]:
        with self._lock:
            return [e for entries in self._ledger.values() for e in entries]

    def reset(self) -> None:
        with self._lock:
            self._intents.clear()
            self._ledger.clear()

    def _append(self, entry: LedgerEntry) -> None:
        self._ledger.setdefault(entry.order_id, []).append(entry)
        self._ledger.move_to_end(entry.order_id)
        while len(self._ledger) > self.max_orders:
            self._ledger.popitem(last=False)


def _invalid_payment_method(reason: str) -> GatewayResult:
    """A decline about the payment method itself (unknown token or handle): no charge id, nothing moved."""
    return GatewayResult(Outcome.DECLINED, None, "invalid_payment_method", reason, utc_now())


def _base_outcome(intent: _Intent, token: str, *, count: bool = True) -> str:
    """The token's base outcome, raising a transient error while its chain has failures left on this handle."""
    if token.startswith("pm_sim_transient"):
        head, _, base = token.removeprefix("pm_sim_transient").partition("_")
        failures = int(head) if head.isdigit() else 1
        if count and intent.transient_seen < failures:
            intent.transient_seen += 1
            raise TransientGatewayError("gateway temporarily unavailable (simulated)")
        return base
    for prefix in ("pm_card_", "tok_"):
        if token.startswith(prefix):
            return token.removeprefix(prefix)
    return token


_GATEWAY = SimulatedGateway()


def gateway() -> SimulatedGateway:
    """The process-wide simulated gateway: its ledger outlives single invocations, like a real gateway's."""
    return _GATEWAY
