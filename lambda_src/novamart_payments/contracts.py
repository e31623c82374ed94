"""Runtime validation of NovaMart events against the committed JSON Schemas.

The schemas in ``schemas/`` are the single source of truth shared with the producing and consuming
teams, so the Lambdas validate against exactly those files instead of a hand-written model that
could drift. Validators are compiled once per process (on first use, so a cold start only pays for
what it validates) and reused across invocations.

The engine is jsonschema-rs (compiled, draft 2020-12): about 5 µs per event where jsonschema took
100-140 µs. jsonschema stays the reference: the contract tests prove the same verdict and pointers on
every example and on generated events, and the three places where the engines differ are made to
agree here (``$`` anchors, ``date-time``, lone surrogates; see _python_dollar, _is_date_time and
_engine_errors).

Error text is built here from the schema side only (keyword, schema value, location): the engines'
own messages quote the offending instance value, which would leak a payment token or a smuggled
card number into logs and dead-letter payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMA_BASE_URI",
    "SCHEMA_DIR",
    "ContractViolation",
    "UnsupportedCurrency",
    "Violation",
    "currency_exponent",
    "inline_schema",
    "known_event_types",
    "resolved_schema",
    "supported_currencies",
    "validate_event",
]


def _locate_schema_dir() -> Path:
    # In the Lambda zip the build copies schemas/ next to this module; in a checkout they live at
    # the repository root. Preferring the packaged copy keeps a deployed function independent of
    # whatever happens to sit in the working directory.
    packaged = Path(__file__).parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


SCHEMA_DIR: Path = _locate_schema_dir()

#: Every schema's ``$id`` lives under this base, so external tools resolve the relative ``$ref``s to the
#: same files; at runtime they are inlined from SCHEMA_DIR and never fetched.
SCHEMA_BASE_URI = "https://schemas.novamart.example/payments/"

_VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$")
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


class UnsupportedCurrency(ValueError):
    """Raised for a currency code missing from ``schemas/common/currencies.json``.

    A ValueError rather than a KeyError because the caller passed a bad value, and the message
    names the supported set so that the fix is obvious.
    """


# --------------------------------------------------------------------------------------------
# Currency table


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


# --------------------------------------------------------------------------------------------
# Schema discovery and compilation


@lru_cache(maxsize=1)
def _schema_index() -> Mapping[str, Mapping[int, Path]]:
    """Map detail-type -> major -> schema file, discovered from ``schemas/events/<dt>/v<N>.json``."""
    index: dict[str, dict[int, Path]] = {}
    events_dir = SCHEMA_DIR / "events"
    for path in sorted(events_dir.glob("*/v*.json")):
        major = path.stem[1:]
        if major.isdigit():
            index.setdefault(path.parent.name, {})[int(major)] = path
    return index


def known_event_types() -> frozenset[str]:
    """Every detail-type that has at least one schema version."""
    return frozenset(_schema_index())


# Formats the schemas use; the contract tests fail if a schema starts using another one.
USED_FORMATS = frozenset({"date-time", "uuid"})


@cache
def _load(path: Path) -> Any:
    # Cached: inlining reads the shared definition files once per $ref otherwise (a third of the first event's
    # schema work). Callers never mutate the result: _inline builds new containers all the way down.
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _inline(node: Any, base: Path, active: tuple[str, ...]) -> Any:
    """Replace every ``$ref`` by the (recursively inlined) definition it points to.

    The validators run on the inlined form: ``$ref`` lookups through ``referencing`` were about half of
    the per-event cost, and resolving files here, inside SCHEMA_DIR only, also guarantees that no
    reference can ever trigger a network fetch.
    """
    if isinstance(node, list):
        return [_inline(item, base, active) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {key: _inline(value, base, active) for key, value in node.items()}
    file_part, _, fragment = ref.partition("#")
    target_file = (base.parent / file_part).resolve() if file_part else base
    if "://" in ref or not target_file.is_relative_to(SCHEMA_DIR.resolve()):
        raise ValueError(f"$ref {ref} in {base.name} points outside {SCHEMA_DIR}")
    key = f"{target_file}#{fragment}"
    if key in active:
        raise ValueError(f"recursive $ref {ref} in {base.name}")
    target = _load(target_file)
    for token in filter(None, fragment.split("/")):
        target = target[token.replace("~1", "/").replace("~0", "~")]
    resolved = _inline(target, target_file, (*active, key))
    merged = {k: v for k, v in resolved.items() if k not in ("$id", "$schema", "$defs")}
    merged.update({k: _inline(v, base, active) for k, v in node.items() if k != "$ref"})
    return merged


#: Where the Lambda zip keeps each event schema already inlined (``resolved/<detail-type>/v<N>.json``), written
#: by tools/build_lambda.py with ``inline_schema`` below. Inlining walks a few hundred nodes over several
#: files; on a cold start that was 4 ms of the first event's work, against 0.2 ms to read the inlined file.
RESOLVED_DIR = "resolved"


@cache
def resolved_schema(detail_type: str, major: int) -> Mapping[str, Any]:
    """The event's schema with every shared definition inlined: exactly what the validator runs.

    Read from the zip's pre-inlined copy when there is one (``make package-check`` proves it gives the sources'
    verdict on every example), else inlined from the sources.
    """
    path = _schema_index()[detail_type][major]
    packaged = SCHEMA_DIR / RESOLVED_DIR / detail_type / path.name
    if packaged.is_file():
        loaded = _load(packaged)
        assert isinstance(loaded, dict)
        return loaded
    return inline_schema(path)


def inline_schema(path: Path) -> dict[str, Any]:
    """The schema at ``path`` with every ``$ref`` inlined and its ``$defs`` dropped."""
    schema = _inline(_load(path), path.resolve(), ())
    assert isinstance(schema, dict)
    schema.pop("$defs", None)
    return schema


def _python_dollar(pattern: str, anchor: str = "\\Z") -> str:
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
    of the string, as the runtime engine anchors it (see _python_dollar)."""
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
        copied["pattern"] = _python_dollar(node["pattern"])
    return copied


def _is_date_time(value: str) -> bool:
    # The very check jsonschema's FormatChecker runs for "date-time" (rfc3339-validator on the upper-cased
    # text), so both engines agree. The Rust engine's own check differs twice: it accepts a leap second
    # (23:59:60Z), which rfc3339-validator refuses, and refuses a final newline, which rfc3339-validator's
    # `$` lets through.
    from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped,unused-ignore]

    return bool(validate_rfc3339(value.upper()))


def _compile(schema: Mapping[str, Any]) -> Any:
    """Compile ``schema`` with the runtime engine: jsonschema-rs, draft 2020-12, formats checked.

    jsonschema-rs gives the verdict of ``jsonschema`` (the reference the contract tests compare it with on
    every example and on generated events) at 1-2 µs per event instead of ~140 µs: validation was 60-70 % of
    the handler's own CPU per event.
    """
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True, formats={"date-time": _is_date_time})


@cache
def _validator(detail_type: str, major: int) -> Any:
    """The compiled validator of one event schema, built on its first event and reused after."""
    return _compile(resolved_schema(detail_type, major))


_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(node: Any) -> Any:
    if isinstance(node, str):
        return _LONE_SURROGATE_RE.sub("\ufffd", node)
    if isinstance(node, Mapping):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_lone_surrogates(v) for v in node]
    return node


def _engine_errors(validator: Any, instance: Any) -> list[Any]:
    """The engine's errors for ``instance`` (empty when valid): the fast ``is_valid`` first, details only on failure.

    ``json.loads`` turns a ``"\\ud800"`` escape into a lone surrogate, which the engine cannot encode to UTF-8
    (it raises UnicodeEncodeError). Such text is checked with each lone surrogate replaced by U+FFFD: every
    pattern, const and enum of the schemas is ASCII and lengths count code points, so either character gets
    jsonschema's verdict (the contract tests draw lone surrogates to prove it).
    """
    try:
        return [] if validator.is_valid(instance) else list(validator.iter_errors(instance))
    except UnicodeEncodeError:
        return _engine_errors(validator, _without_lone_surrogates(instance))


# --------------------------------------------------------------------------------------------
# Error rendering (schema-side information only)


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


def _render(schema: Mapping[str, Any], error: Any) -> list[Violation]:
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


# --------------------------------------------------------------------------------------------
# Public entry point


def _schema_version_major(event: Mapping[str, Any]) -> int | None:
    detail = event.get("detail")
    metadata = detail.get("metadata") if isinstance(detail, Mapping) else None
    version = metadata.get("schemaVersion") if isinstance(metadata, Mapping) else None
    if not isinstance(version, str):
        return None
    match = _VERSION_RE.match(version)
    return int(match.group(1)) if match else None


def validate_event(event: Mapping[str, Any]) -> None:
    """Check a whole EventBridge event (source, detail-type, detail) against its schema.

    The schema is chosen by ``detail-type`` and the MAJOR of ``detail.metadata.schemaVersion``, so
    a producer can roll out a new major while consumers still accept the old one. Raises
    ContractViolation listing every problem; returns None when the event is valid.
    """
    if not isinstance(event, Mapping):
        raise ContractViolation((Violation("", "event must be a JSON object"),))
    index = _schema_index()
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str) or detail_type not in index:
        raise ContractViolation(
            (Violation("/detail-type", f"unknown detail-type; expected one of {', '.join(sorted(index))}"),)
        )
    majors = index[detail_type]
    if "detail" in event and not isinstance(event["detail"], Mapping):
        # A detail still JSON-encoded (the PutEvents wire form) is the common mistake; say so plainly.
        raise ContractViolation((Violation("/detail", 'must be of type "object" (decode the JSON string first)'),))
    major = _schema_version_major(event)
    if major is None or major not in majors:
        supported = ", ".join(f"{m}.x" for m in sorted(majors))
        raise ContractViolation(
            (
                Violation(
                    "/detail/metadata/schemaVersion",
                    f"missing or unsupported schema version for {detail_type}; supported: {supported}",
                ),
            )
        )
    errors = _engine_errors(_validator(detail_type, major), event)
    if not errors:
        return
    schema = resolved_schema(detail_type, major)
    violations: set[Violation] = set()
    for error in errors:
        violations.update(_render(schema, error))
    if violations:
        raise ContractViolation(tuple(sorted(violations, key=lambda v: (v.pointer, v.message))))
