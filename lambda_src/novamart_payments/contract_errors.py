"""A broken contract, told without echoing the event: ``Violation`` and ``ContractViolation``, and the wording of an
engine error from the schema side only (keyword, schema value, location).

The engines' own messages quote the offending instance value, which would leak a payment token or a smuggled card
number into logs and dead-letter payloads; so do keys that look like data, which are redacted from pointers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Keys that are safe to show in a pointer or message. Anything else (digits-only keys, odd
# characters, very long names) could itself be data, e.g. a card number used as a key.
_SAFE_KEY_RE = re.compile(r"^(?!.*[0-9]{6})[A-Za-z0-9_.:-]{1,64}$")
_REDACTED_KEY = "<redacted-key>"


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason an event breaks its contract, located by an RFC 6901 JSON pointer."""

    pointer: str
    message: str

    def __iter__(self) -> Iterator[str]:
        # Lets callers unpack ``for pointer, message in exc.violations`` as design.md describes.
        return iter((self.pointer, self.message))

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class ContractViolation(ValueError):
    """Raised when an event does not satisfy its schema; carries every violation, not just the first.

    Reporting all of them at once lets a producing team fix an event in one round trip, and the
    pointers let handlers and dead-letter tooling act on them without parsing messages.
    """

    def __init__(self, violations: tuple[Violation, ...] | list[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        super().__init__(self.violations)

    def __str__(self) -> str:
        count = len(self.violations)
        lines = [f"event violates its contract ({count} violation{'s' if count != 1 else ''}):"]
        lines.extend(f"  {v}" for v in self.violations)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ContractViolation({list(self.violations)!r})"

    @property
    def pointers(self) -> tuple[str, ...]:
        return tuple(v.pointer for v in self.violations)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _safe_key(key: object) -> str:
    text = str(key)
    return text if _SAFE_KEY_RE.match(text) else _REDACTED_KEY


def _pointer(path: Any) -> str:
    parts = []
    for part in path:
        parts.append(str(part) if isinstance(part, int) else _escape(_safe_key(part)))
    return "".join("/" + p for p in parts)


def _join(pointer: str, key: object) -> str:
    return f"{pointer}/{_escape(_safe_key(key))}"


def _describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def _schema_at(schema: Any, path: Any) -> Any:
    node = schema
    for part in path:
        node = node[part]
    return node


def render(schema: Mapping[str, Any], error: Any) -> list[Violation]:
    """Violations of one engine error, worded from the schema (keyword and its value) and the location only.

    The engine's own message quotes the instance value, so it is never used; the keyword and its value are
    read from the original schema (not the engine's copy with rewritten patterns) at the error's schema path.
    """
    *parent_path, keyword = error.schema_path
    parent = _schema_at(schema, parent_path)
    expected: Any = parent[keyword]
    where = _pointer(error.instance_path)
    instance = error.instance
    if keyword == "required":
        present = instance if isinstance(instance, Mapping) else {}
        return [Violation(_join(where, name), "is required") for name in expected if name not in present]
    if keyword == "additionalProperties":
        allowed = set(parent.get("properties", {}))
        extras = sorted(k for k in instance if k not in allowed) if isinstance(instance, Mapping) else []
        return [Violation(_join(where, name), "is not allowed: the contract is closed") for name in extras]
    messages: dict[str, Callable[[], str]] = {
        "type": lambda: f"must be of type {_describe(expected)}",
        "const": lambda: f"must equal {_describe(expected)}",
        "enum": lambda: f"must be one of {', '.join(_describe(v) for v in expected)}",
        "pattern": lambda: f"must match the pattern {expected}",
        "format": lambda: f"must be a valid {expected}",
        "minLength": lambda: f"must be at least {expected} characters long",
        "maxLength": lambda: f"must be at most {expected} characters long",
        "minimum": lambda: f"must be >= {expected}",
        "maximum": lambda: f"must be <= {expected}",
        "exclusiveMinimum": lambda: f"must be > {expected}",
        "exclusiveMaximum": lambda: f"must be < {expected}",
        "minItems": lambda: f"must have at least {expected} items",
        "maxItems": lambda: f"must have at most {expected} items",
        "uniqueItems": lambda: "must not contain duplicate items",
        "multipleOf": lambda: f"must be a multiple of {expected}",
    }
    render = messages.get(keyword)
    message = render() if render else f"fails the {keyword!r} constraint of the schema"
    return [Violation(where, message)]
