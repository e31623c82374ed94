"""Money helpers over the shared currency table.

Amounts travel as integer minor units; the only place decimals appear is at the edges (gateway
requests, human-facing text), and both must use the same exponent the schemas validate against.
"""

from __future__ import annotations

from decimal import Decimal

from novamart_payments.contracts import UnsupportedCurrency, currency_exponent, supported_currencies

__all__ = ["UnsupportedCurrency", "currency_exponent", "format_amount", "supported_currencies", "to_decimal"]


def to_decimal(minor_units: int, currency: str) -> Decimal:
    """Exact major-unit value (1999 USD -> 19.99, 1999 JPY -> 1999, 1999 KWD -> 1.999)."""
    return Decimal(minor_units).scaleb(-currency_exponent(currency))


def format_amount(minor_units: int, currency: str) -> str:
    """Plain ``"19.99 USD"`` rendering for logs and messages, with the currency's own precision."""
    exponent = currency_exponent(currency)
    value = Decimal(minor_units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
    return f"{value} {currency}"
