"""A gateway that behaves like Stripe's test mode, in-process.

Tokens choose the outcome the way Stripe's test payment methods do, so features and tests can ask for a
decline or a 3-D Secure challenge by token alone. Chained tokens ``pm_sim_transient<N>_<base>`` fail with a
transient error N times per idempotency key and then behave like ``pm_card_<base>``: this is how redelivery
after a gateway outage is exercised.

The ledger is process-local. That is exact for the in-process harness and the local Lambda service (one
process); on a real Lambda fleet each container would have its own ledger, which is why this adapter is for
local and test use only (``GATEWAY_MODE=simulated``).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from novamart_payments.domain import Money
from novamart_payments.gateway import GatewayResult, IdempotencyKeyReused, TransientGatewayError

_DECLINES: dict[str, tuple[str, str]] = {
    "chargeDeclined": ("card_declined", "The card was declined."),
    "chargeDeclinedInsufficientFunds": ("insufficient_funds", "The card has insufficient funds."),
    "chargeDeclinedExpiredCard": ("expired_card", "The card has expired."),
    "chargeDeclinedProcessingError": ("processing_error", "An error occurred while processing the card."),
    "threeDSecure2Required": (
        "authentication_required",
        "The payment requires 3-D Secure authentication, which this service does not support yet.",
    ),
}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One money movement the gateway really made; tests count these to prove exactly-once."""

    kind: str  # "charge" | "refund"
    idempotency_key: str
    transaction_id: str
    amount: Money
    reference: str  # order's customer for charges, the charge's transaction id for refunds


@dataclass
class SimulatedGateway:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _results: dict[str, tuple[str, GatewayResult]] = field(default_factory=dict)
    _transient_failures: dict[str, int] = field(default_factory=dict)
    _ledger: list[LedgerEntry] = field(default_factory=list)

    def charge(self, *, idempotency_key: str, amount: Money, token: str, customer_id: str) -> GatewayResult:
        # The fingerprint hashes the token so the stored parameters never hold it in clear.
        fingerprint = _fingerprint("charge", amount, token, customer_id)
        with self._lock:
            cached = self._replay(idempotency_key, fingerprint)
            if cached is not None:
                return cached
            base = self._consume_transient(idempotency_key, token)
            if base in _DECLINES:
                code, reason = _DECLINES[base]
                txn = _transaction_id("ch", idempotency_key)
                result = GatewayResult(approved=False, transaction_id=txn, code=code, reason=reason)
            elif base == "visa" or base.startswith(("visa", "mastercard", "amex")):
                txn = _transaction_id("ch", idempotency_key)
                self._ledger.append(LedgerEntry("charge", idempotency_key, txn, amount, customer_id))
                result = GatewayResult(approved=True, transaction_id=txn)
            else:
                result = GatewayResult(
                    approved=False,
                    transaction_id=None,
                    code="invalid_payment_method",
                    reason="The payment method is not known to the gateway.",
                )
            result = replace(result, processed_at=_now())
            self._results[idempotency_key] = (fingerprint, result)
            return result

    def refund(self, *, idempotency_key: str, transaction_id: str, amount: Money) -> GatewayResult:
        fingerprint = _fingerprint("refund", amount, transaction_id, "")
        with self._lock:
            cached = self._replay(idempotency_key, fingerprint)
            if cached is not None:
                return cached
            charge = next((e for e in self._ledger if e.kind == "charge" and e.transaction_id == transaction_id), None)
            if charge is None:
                result = GatewayResult(False, None, "charge_not_found", "No such charge at the gateway.")
            elif amount.currency != charge.amount.currency:
                result = GatewayResult(False, None, "currency_mismatch", "Refund currency differs from charge.")
            elif amount.minor_units + self._refunded(transaction_id) > charge.amount.minor_units:
                result = GatewayResult(False, None, "amount_too_large", "Refund exceeds the charge.")
            else:
                txn = _transaction_id("re", idempotency_key)
                self._ledger.append(LedgerEntry("refund", idempotency_key, txn, amount, transaction_id))
                result = GatewayResult(approved=True, transaction_id=txn)
            result = replace(result, processed_at=_now())
            self._results[idempotency_key] = (fingerprint, result)
            return result

    def ledger(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._ledger)

    def reset(self) -> None:
        with self._lock:
            self._results.clear()
            self._transient_failures.clear()
            self._ledger.clear()

    def _replay(self, key: str, fingerprint: str) -> GatewayResult | None:
        stored = self._results.get(key)
        if stored is None:
            return None
        if stored[0] != fingerprint:
            raise IdempotencyKeyReused(f"idempotency key {key!r} was used with different parameters")
        return stored[1]

    def _consume_transient(self, key: str, token: str) -> str:
        """Return the token's base outcome, raising a transient error while the chain has failures left."""
        if token.startswith("pm_sim_transient"):
            head, _, base = token.removeprefix("pm_sim_transient").partition("_")
            failures = int(head) if head.isdigit() else 1
            seen = self._transient_failures.get(key, 0)
            if seen < failures:
                self._transient_failures[key] = seen + 1
                raise TransientGatewayError("gateway temporarily unavailable (simulated)")
            return base
        for prefix in ("pm_card_", "tok_"):
            if token.startswith(prefix):
                return token.removeprefix(prefix)
        return token

    def _refunded(self, transaction_id: str) -> int:
        return sum(e.amount.minor_units for e in self._ledger if e.kind == "refund" and e.reference == transaction_id)


def _fingerprint(kind: str, amount: Money, secret_part: str, extra: str) -> str:
    raw = f"{kind}|{amount.minor_units}|{amount.currency}|{secret_part}|{extra}".encode()
    return hashlib.sha256(raw).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _transaction_id(prefix: str, key: str) -> str:
    return f"{prefix}_sim_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


_GATEWAY = SimulatedGateway()


def gateway() -> SimulatedGateway:
    """The process-wide simulated gateway: its ledger outlives single invocations, like a real gateway's."""
    return _GATEWAY


def ledger() -> list[LedgerEntry]:
    return _GATEWAY.ledger()
