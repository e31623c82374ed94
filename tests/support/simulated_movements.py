"""Money movements at the in-process simulated gateway, counted per order (whatever key or handle was used)."""

from __future__ import annotations

from novamart_payments.gateway.simulated import gateway


def charges(order_id: str) -> list[int]:
    """Amounts the simulated gateway charged for the order (per order, whatever key or handle was used)."""
    return [e.amount.minor_units for e in gateway().movements(order_id) if e.kind == "charge"]


def refunds(order_id: str) -> list[int]:
    return sorted(e.amount.minor_units for e in gateway().movements(order_id) if e.kind == "refund")
