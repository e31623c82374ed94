"""Terminal output: tables and money amounts as the CLI prints them."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any


def format_table(rows: list[Mapping[str, Any]], columns: list[str], *, empty: str = "(none)") -> str:
    """A plain-text table: one header, one line per row, columns padded to their widest cell."""
    if not rows:
        return empty
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(), line]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and {"minorUnits", "currency"} <= value.keys():
        return format_money(int(value["minorUnits"]), str(value["currency"]))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def format_money(minor_units: int, currency: str) -> str:
    """``1999 USD`` -> ``19.99 USD``; uses the schemas' exponent table when the package is importable."""
    try:
        exponent = importlib.import_module("novamart_payments.contracts").currency_exponent(currency)
    except Exception:
        exponent = _EXPONENTS.get(currency, 2)
    if exponent == 0:
        return f"{minor_units} {currency}"
    whole, frac = divmod(abs(minor_units), 10**exponent)
    sign = "-" if minor_units < 0 else ""
    return f"{sign}{whole}.{frac:0{exponent}d} {currency}"
