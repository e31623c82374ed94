"""Money: an amount in a currency's minor units, and the currency table every edge shares.

Amounts travel as integer minor units; the only place decimals appear is at the edges (gateway requests,
human-facing text), and both must use the same exponent the schemas validate against: the table is read from
``schemas/common/currencies.json``, next to the schemas' enum, so validation and money arithmetic can never disagree
about which currencies exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from novamart_payments.schema_store import SCHEMA_DIR


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor units; never a float, so no rounding can create or lose money."""

    minor_units: int
    currency: str


class UnsupportedCurrency(ValueError):
    """Raised for a currency code missing from ``schemas/common/currencies.json``.

    A ValueError rather than a KeyError because the caller passed a bad value, and the message
    names the supported set so that the fix is obvious.
    """


@lru_cache(maxsize=1)
def _currency_table() -> Mapping[str, int]:
    with (SCHEMA_DIR / "common" / "currencies.json").open(encoding="utf-8") as fh:
        doc = json.load(fh)
    table = doc["x-minorUnitExponent"]
    return {str(code): int(exp) for code, exp in table.items()}


def currency_exponent(code: str) -> int:
    """Number of decimal places of ``code`` (JPY 0, USD 2, KWD 3) from the shared currency table.

    Kept next to the schemas' enum so that validation and money arithmetic can never disagree
    about which currencies exist.
    """
    table = _currency_table()
    try:
        return table[code]
    except (KeyError, TypeError):
        raise UnsupportedCurrency(f"unsupported currency; supported: {', '.join(sorted(table))}") from None


def supported_currencies() -> frozenset[str]:
    """The currency codes the schemas accept."""
    return frozenset(_currency_table())


def format_amount(minor_units: int, currency: str) -> str:
    """Plain ``"19.99 USD"`` rendering for logs and messages, with the currency's own precision."""
    exponent = currency_exponent(currency)
    value = Decimal(minor_units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
    return f"{value} {currency}"
