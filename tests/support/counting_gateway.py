"""The gateway port for decision tests: the in-process simulated gateway, with every request counted per order.

The simulator (``gateway/simulated.py``) is already the fast tests' gateway: it protects nothing (ignores
idempotency keys, caps no refund) and keeps a ledger of the money it really moved. This wrapper adds what the
decision tests assert beside the money: how many gateway requests each order cost (the gateway is the service's
real limit: a duplicate must spend none), and faults on demand: a request refused before it did anything (a 429,
``GatewayRateLimited``; an outage, ``TransientGatewayError``), or one that went through but whose answer was lost
(``after=True``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from tests.support.ports_under_test import ChargeRequest, GatewayResult, Outcome, RefundRequest, SimulatedGateway

T = TypeVar("T")


@dataclass
class _Fault:
    method: str
    error: Exception
    after: bool
    times: int


class CountingGateway:
    def __init__(self, inner: SimulatedGateway | None = None) -> None:
        self.inner = inner if inner is not None else SimulatedGateway()
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str | None]] = []  # (method, order id)
        self._orders: dict[str, str] = {}  # gateway handle or refund id -> order id
        self._faults: list[_Fault] = []
        self._keys: list[tuple[str, str]] = []  # (order id, idempotency key) of each charge and refund request
        self._refunds_settle_later = False

    # --- what the tests ask ------------------------------------------------------------------------------

    def fail(self, method: str, error: Exception, *, times: int = 1, after: bool = False) -> None:
        """The next ``times`` calls of ``method`` raise ``error``: before reaching the gateway, or ``after`` it
        did its work (the answer lost on the way back)."""
        with self._lock:
            self._faults.append(_Fault(method, error, after, times))

    def requests(self, order_id: str) -> list[str]:
        """Every request sent to the gateway about one order, by method name, in order (refused ones too)."""
        with self._lock:
            return [method for method, order in self._requests if order == order_id]

    def settle_refunds_later(self) -> None:
        """From now on a refund is accepted but reported PENDING, as Stripe does for some payment methods (the
        money moves; ``refund_status`` then answers the refund as settled)."""
        self._refunds_settle_later = True

    def keys(self, order_id: str) -> set[str]:
        """The idempotency keys the order's charge and refund requests carried."""
        with self._lock:
            return {key for order, key in self._keys if order == order_id}

    def request_counts(self, order_id: str) -> Counter[str]:
        return Counter(self.requests(order_id))

    def charges(self, order_id: str) -> list[int]:
        """Amounts the gateway really charged for the order (its ledger, whatever handle or key was used)."""
        return [e.amount.minor_units for e in self.inner.movements(order_id) if e.kind == "charge"]

    def refunds(self, order_id: str) -> list[int]:
        return sorted(e.amount.minor_units for e in self.inner.movements(order_id) if e.kind == "refund")

    def authenticate(self, handle: str, *, success: bool) -> None:
        """The customer completing (or failing) 3-D Secure: not a request of the service."""
        self.inner.authenticate(handle, success=success)

    # --- the port ----------------------------------------------------------------------------------------

    def begin_charge(self, request: ChargeRequest) -> str:
        handle = self._send("begin_charge", request.order_id, lambda: self.inner.begin_charge(request), request)
        with self._lock:
            self._orders[handle] = request.order_id
        return handle

    def release_charge(self, handle: str) -> None:
        self._send("release_charge", self._order(handle), lambda: self.inner.release_charge(handle))

    def complete_charge(self, handle: str, request: ChargeRequest) -> GatewayResult:
        return self._send(
            "complete_charge", request.order_id, lambda: self.inner.complete_charge(handle, request), request
        )

    def refund(self, request: RefundRequest) -> GatewayResult:
        result = self._send("refund", request.order_id, lambda: self.inner.refund(request), request)
        self._remember(result, request.order_id)
        if self._refunds_settle_later and result.approved:
            return replace(result, outcome=Outcome.PENDING)
        return result

    def find_refund(self, request: RefundRequest) -> GatewayResult | None:
        found = self._send("find_refund", request.order_id, lambda: self.inner.find_refund(request))
        if found is not None:
            self._remember(found, request.order_id)
        return found

    def find_outside_refund(self, handle: str, minor_units: int) -> GatewayResult | None:
        return self._send(
            "find_outside_refund", self._order(handle), lambda: self.inner.find_outside_refund(handle, minor_units)
        )

    def charge_status(self, handle: str) -> GatewayResult:
        """Also names the attempt's order, as Stripe does from the intent's metadata (the simulator keeps no order
        on its answers): a notice that names only a gateway object (an early fraud warning) finds its payment."""
        result = self._send("charge_status", self._order(handle), lambda: self.inner.charge_status(handle))
        return replace(result, order_id=result.order_id or self._order(handle))

    def cancel_charge(self, handle: str) -> GatewayResult:
        return self._send("cancel_charge", self._order(handle), lambda: self.inner.cancel_charge(handle))

    def refund_status(self, transaction_id: str) -> GatewayResult:
        return self._send(
            "refund_status", self._order(transaction_id), lambda: self.inner.refund_status(transaction_id)
        )

    # --- helpers -----------------------------------------------------------------------------------------

    def _order(self, handle: str) -> str | None:
        with self._lock:
            return self._orders.get(handle)

    def _remember(self, result: GatewayResult, order_id: str) -> None:
        if result.transaction_id is not None:
            with self._lock:
                self._orders[result.transaction_id] = order_id

    def _send(
        self,
        method: str,
        order_id: str | None,
        call: Callable[[], T],
        request: ChargeRequest | RefundRequest | None = None,
    ) -> T:
        with self._lock:
            self._requests.append((method, order_id))
            if request is not None:
                self._keys.append((request.order_id, request.idempotency_key))
            fault = next((f for f in self._faults if f.method == method), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        if fault is not None and not fault.after:
            raise fault.error
        result = call()
        if fault is not None:
            raise fault.error
        return result
