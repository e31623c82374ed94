"""Finding card numbers and payment tokens in text (log lines, table items, published events).

A card number is a Luhn-valid run of 13-19 digits, written contiguously or in groups of four separated by one space
or hyphen. Runs inside identifiers (hex digests, uuids, transaction ids) are not candidates: the run must not touch
a letter, digit, underscore, dot or hyphen, which is also what keeps uuid segments from being read as one number.
A token is ``pm_...`` or ``tok_...`` at a word start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_CONTIGUOUS = re.compile(r"(?<![\w.-])\d{13,19}(?![\w.-])")
_GROUPED = re.compile(r"(?<![\w.-])\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}(?![\w.-])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:pm|tok)_[A-Za-z0-9_]+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_leaks(texts: Iterable[str]) -> list[str]:
    """Every card-number or token look-alike in ``texts``, each as ``<kind>: <match>`` (one per occurrence)."""
    found: list[str] = []
    for text in texts:
        for match in _CONTIGUOUS.finditer(text):
            if luhn_valid(match.group()):
                found.append(f"card number: {match.group()}")
        for match in _GROUPED.finditer(text):
            digits = re.sub(r"[ -]", "", match.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(f"card number: {match.group()}")
        found.extend(f"token: {m.group()}" for m in _TOKEN.finditer(text))
    return found


def as_texts(objects: Iterable[Any]) -> list[str]:
    """JSON text of each object, which is how items and events would reach anyone reading them."""
    return [json.dumps(o, sort_keys=True, default=str) for o in objects]
