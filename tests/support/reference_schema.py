"""The jsonschema reference's view of the event schemas (test-only: the contract tests compare the runtime engine,
jsonschema-rs, with jsonschema on every example and on generated events).

Patterns match whole strings, as JSON Schema (ECMA-262) specifies and as the Rust engine does; Python's ``$`` also
matches just before a final newline, so the reference is given each schema with its ``$`` anchors rewritten.
"""

from __future__ import annotations

from typing import Any


def python_dollar(pattern: str, anchor: str = "\\Z") -> str:
    """Give every ``$`` anchor of ``pattern`` the meaning ``anchor`` (by default Python's ``\\Z``: the very end).

    Patterns match whole strings, as JSON Schema (ECMA-262) specifies and as the Rust engine does: ``"ord-1\\n"``
    is not an order id. Python's ``$`` also matches just before a final newline, so the reference validator
    (jsonschema, Python ``re``) is given the schemas with each anchor rewritten to ``\\Z`` (``reference_schema``).
    Escaped dollars and dollars inside a character class are literal characters and stay as they are.
    """
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(anchor)
            continue
        out.append(char)
    return "".join(out)


# Keywords whose values are instance data, not schemas: a "pattern" key inside them is not a regex.
_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})
# Keywords whose values map names to schemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})


def reference_schema(node: Any) -> Any:
    """A copy of ``node`` for Python's ``re`` (the jsonschema reference): each ``pattern`` anchored at the very end
    of the string, as the runtime engine anchors it (see python_dollar)."""
    return _rewrite_patterns(node)


def _rewrite_patterns(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite_patterns(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA_KEYWORDS:
            copied[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            # Names here are property names (which may well be "enum" or "pattern"), each mapped to a schema.
            copied[key] = {name: _rewrite_patterns(sub) for name, sub in value.items()}
        else:
            copied[key] = _rewrite_patterns(value)
    if isinstance(node.get("pattern"), str):
        copied["pattern"] = python_dollar(node["pattern"])
    return copied
