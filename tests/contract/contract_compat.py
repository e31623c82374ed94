"""Structural compatibility check between a released schema version and its current form.

Both sides are fully dereferenced schemas (``tools.docgen.schemas.dereference``). The rules are deliberately
conservative: when the checker cannot prove a change harmless, it calls it breaking, and the way
out is a new major version.

The rule behind every check (docs/events/versioning.md): within one major version, a consumed event's
schema may only accept more (producers keep sending what they sent), a published event's schema may only
accept less (every event the producer now sends still validates against every released consumer schema).

Always breaking (both directions):
- a property removed or renamed (a rename is a removal plus an addition): consumers read it,
- a value set both narrowed and widened (a changed const, a type swapped for another), a changed
  pattern or format,
- a changed combinator (allOf/anyOf/oneOf/not) or an unknown constraint keyword that changed.

Breaking for consumed events only (producers still send what the released version allowed):
- a narrowed constraint: fewer types or enum values, a higher lower bound or lower upper bound, a new
  pattern/format, an object closed that was open,
- a property newly required.

Breaking for published events only (consumers validate against the released version and rely on
what it guarantees):
- a widened constraint: more types or enum values (a new failure code), a bound relaxed or dropped, a
  pattern or format removed, an object opened,
- a required property made optional.

Allowed in a minor version: documentation changes, new optional properties (consumers validate with the
open consumer form and ignore fields they do not know) and the direction-safe changes above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["consumed", "published"]

_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default", "$schema", "$id", "$defs"})
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf", "uniqueItems")
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "patternProperties", "dependentRequired")
_HANDLED = frozenset(
    {"type", "const", "enum", "properties", "required", "additionalProperties", "items"}
    | set(_LOWER_BOUNDS)
    | set(_UPPER_BOUNDS)
    | set(_EXACT)
    | set(_COMBINATORS)
)


@dataclass(frozen=True)
class Break:
    """One breaking difference, located by a JSON pointer into the schema."""

    where: str
    rule: str

    def __str__(self) -> str:
        return f"{self.where or '/'}: {self.rule}"


def _types(node: dict[str, Any]) -> frozenset[str] | None:
    declared = node.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if "number" in types:
        types.add("integer")
    return frozenset(types)


def _values(node: dict[str, Any]) -> frozenset[str] | None:
    if "const" in node:
        return frozenset({json.dumps(node["const"], sort_keys=True)})
    if "enum" in node:
        return frozenset(json.dumps(v, sort_keys=True) for v in node["enum"])
    return None


def _subset_break(old: frozenset[str] | None, new: frozenset[str] | None) -> tuple[bool, bool]:
    """(narrowed, widened) for two allowed-value sets where None means unconstrained."""
    narrowed = new is not None and (old is None or not old <= new)
    widened = old is not None and (new is None or not new <= old)
    return narrowed, widened


def _compare(old: Any, new: Any, where: str, direction: Direction, out: list[Break]) -> None:
    published = direction == "published"
    if isinstance(old, bool) or isinstance(new, bool):
        if old != new:
            out.append(Break(where, "boolean schema changed"))
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            out.append(Break(where, "schema changed shape"))
        return

    for keyword, getter in (("type", _types), ("enum/const", _values)):
        narrowed, widened = _subset_break(getter(old), getter(new))
        if narrowed and not published:
            out.append(Break(where, f"{keyword} narrowed"))
        if widened and published:
            out.append(Break(where, f"{keyword} widened"))

    for keyword in _LOWER_BOUNDS:
        o, n = old.get(keyword), new.get(keyword)
        if not published and n is not None and (o is None or n > o):
            out.append(Break(where, f"{keyword} raised (narrowed)"))
        if published and o is not None and (n is None or n < o):
            out.append(Break(where, f"{keyword} lowered (widened)"))
    for keyword in _UPPER_BOUNDS:
        o, n = old.get(keyword), new.get(keyword)
        if not published and n is not None and (o is None or n < o):
            out.append(Break(where, f"{keyword} lowered (narrowed)"))
        if published and o is not None and (n is None or n > o):
            out.append(Break(where, f"{keyword} raised (widened)"))
    for keyword in _EXACT:
        o, n = old.get(keyword), new.get(keyword)
        # Added: narrows (breaks consumed); removed: widens (breaks published); replaced: breaks both.
        if o != n and (o is not None if published else n is not None):
            out.append(Break(where, f"{keyword} changed"))
    for keyword in _COMBINATORS:
        if old.get(keyword) != new.get(keyword):
            out.append(Break(where, f"{keyword} changed (compatibility cannot be proven)"))
    for keyword in sorted((set(old) | set(new)) - _HANDLED - _ANNOTATIONS):
        if not keyword.startswith("x-") and old.get(keyword) != new.get(keyword):
            out.append(Break(where, f"unknown keyword {keyword} changed"))

    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            out.append(Break(f"{where}/properties/{name}", "property removed or renamed"))
        else:
            _compare(old_props[name], new_props[name], f"{where}/properties/{name}", direction, out)
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        if not published:
            out.append(Break(f"{where}/required/{name}", "property newly required"))
    if published:
        for name in sorted(old_required - new_required):
            out.append(Break(f"{where}/required/{name}", "required property made optional"))

    old_additional, new_additional = old.get("additionalProperties", True), new.get("additionalProperties", True)
    if old_additional is not False and new_additional is False and not published:
        out.append(Break(where, "object closed (additionalProperties: false added)"))
    elif old_additional is False and new_additional is not False and published:
        out.append(Break(where, "object opened (additionalProperties no longer false)"))
    elif isinstance(old_additional, dict) and isinstance(new_additional, dict):
        _compare(old_additional, new_additional, f"{where}/additionalProperties", direction, out)

    if "items" in old or "items" in new:
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            _compare(old["items"], new["items"], f"{where}/items", direction, out)
        elif old.get("items") != new.get("items"):
            out.append(Break(f"{where}/items", "items changed shape"))


def breaking_changes(released: dict[str, Any], current: dict[str, Any], direction: Direction) -> list[Break]:
    """Every change from ``released`` to ``current`` that would break the event's other side."""
    out: list[Break] = []
    _compare(released, current, "", direction, out)
    return out
