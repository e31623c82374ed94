"""The runtime validator engine (jsonschema-rs) gives the verdict of the reference, ``jsonschema``.

The Lambdas validate with jsonschema-rs because it is ~100x cheaper per event; ``jsonschema`` stays the
reference. These tests compare the two on every example and sample event and on generated instances: events
mutated from the valid examples (wrong types, huge numbers, trailing newlines, lone surrogates, dropped and
added keys) and strings drawn from each schema pattern and from date-times. Two differences between the
engines are known and pinned below, each with the way the runtime removes it (docs/performance.md,
"Validation engine"): Python's ``$`` matches before a final newline, and rfc3339-validator refuses leap
seconds that the Rust engine's own ``date-time`` check accepts.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from contract_support import SAMPLE_EVENTS, example_id, invalid_examples, load, valid_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from novamart_payments import contracts

from tests.support.reference_schema import python_dollar, reference_schema

VALID = valid_examples()
INVALID = invalid_examples()
EXAMPLES = [(dt_, load(p)) for dt_, p in VALID] + [(dt_, load(p)["event"]) for dt_, p in INVALID]
SAMPLES = [load(p) for p in sorted(SAMPLE_EVENTS.glob("*.json"))]
EVENT_TYPES = sorted(contracts.known_event_types())


@cache
def reference(detail_type: str) -> Any:
    """jsonschema on the same (inlined) schema the runtime compiles, with the formats the schemas use."""
    return jsonschema.Draft202012Validator(
        reference_schema(contracts.resolved_schema(detail_type, 1)),
        format_checker=jsonschema.FormatChecker(formats=sorted(contracts.USED_FORMATS)),
    )


def pointers_of_reference(detail_type: str, event: Any) -> set[str]:
    return {"/" + "/".join(str(p) for p in e.absolute_path) for e in reference(detail_type).iter_errors(event)}


def runtime_verdict(validator: Any, instance: Any) -> bool:
    """True when the runtime engine (with the runtime's own handling of lone surrogates) accepts ``instance``."""
    return not contracts._engine_errors(validator, instance)


def pointers_of_runtime(detail_type: str, event: Any) -> set[str]:
    errors = contracts._engine_errors(contracts._validator(detail_type, 1), event)
    return {"/" + "/".join(str(p) for p in e.instance_path) for e in errors}


def assert_same_verdict(detail_type: str, event: Any) -> None:
    expected = reference(detail_type).is_valid(event)
    assert runtime_verdict(contracts._validator(detail_type, 1), event) is expected, repr(event)
    # Both engines also locate the problems at the same places (the pointers handlers and DLQ tools act on).
    assert pointers_of_runtime(detail_type, event) == pointers_of_reference(detail_type, event)
    # And the public entry point agrees whenever the event selects this schema.
    if isinstance(event, dict) and event.get("detail-type") == detail_type and _selects_v1(event):
        try:
            contracts.validate_event(event)
            raised = False
        except contracts.ContractViolation:
            raised = True
        assert raised == (not expected)


def _selects_v1(event: dict[str, Any]) -> bool:
    detail = event.get("detail")
    metadata = detail.get("metadata") if isinstance(detail, dict) else None
    version = metadata.get("schemaVersion") if isinstance(metadata, dict) else None
    return isinstance(version, str) and re.fullmatch(r"1\.(0|[1-9][0-9]{0,3})", version) is not None


@pytest.mark.parametrize("item", EXAMPLES, ids=[example_id((d, p)) for d, p in VALID + INVALID])
def test_every_example_gets_the_reference_verdict(item: tuple[str, Any]) -> None:
    detail_type, event = item
    assert_same_verdict(detail_type, event)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e["detail-type"])
def test_every_sample_event_gets_the_reference_verdict(event: dict[str, Any]) -> None:
    assert_same_verdict(event["detail-type"], event)


# --- the two known differences of the engines, and how the runtime removes each -------------------------------

ORDER_ID = contracts.resolved_schema("order.ready_for_payment", 1)["properties"]["detail"]["properties"]["data"][
    "properties"
]["orderId"]


def test_patterns_match_whole_strings_in_both_engines() -> None:
    # The discrepancy itself: stock jsonschema (Python re) accepts a trailing newline for a `$`-anchored pattern;
    # JSON Schema (ECMA-262) and the Rust engine do not. Whole strings it is: the reference gets `\Z` anchors.
    assert jsonschema.Draft202012Validator(ORDER_ID).is_valid("ord-1\n")
    runtime = contracts._compile(ORDER_ID)
    reference_validator = jsonschema.Draft202012Validator(reference_schema(ORDER_ID))
    for value, verdict in {"ord-1": True, "ord-1\n": False, "ord-1\n\n": False, "ord-1\nx": False, "\n": False}.items():
        assert reference_validator.is_valid(value) is verdict, repr(value)
        assert runtime.is_valid(value) is verdict, repr(value)


@pytest.mark.parametrize(
    ("pattern", "rewritten"),
    [
        ("^a$", "^a\\Z"),
        ("^a\\$b$", "^a\\$b\\Z"),
        ("^[$]$", "^[$]\\Z"),
        ("^[\\]$]x$", "^[\\]$]x\\Z"),
        ("^(a$|b$)", "^(a\\Z|b\\Z)"),
        ("^no-anchor", "^no-anchor"),
    ],
)
def test_dollar_rewrite_touches_anchors_only(pattern: str, rewritten: str) -> None:
    assert python_dollar(pattern) == rewritten


def test_const_and_enum_values_are_not_rewritten() -> None:
    schema = {
        "const": {"pattern": "a$"},
        "enum": [{"pattern": "b$"}],
        "properties": {"x": {"pattern": "c$"}, "enum": {"pattern": "d$"}, "pattern": {"pattern": "e$"}},
    }
    engine = reference_schema(schema)
    assert engine["const"] == {"pattern": "a$"} and engine["enum"] == [{"pattern": "b$"}]
    assert {name: sub["pattern"] for name, sub in engine["properties"].items()} == {
        "x": "c\\Z",
        "enum": "d\\Z",
        "pattern": "e\\Z",
    }


def test_leap_seconds_get_the_reference_verdict() -> None:
    date_time = {"type": "string", "format": "date-time"}
    checker = jsonschema.FormatChecker(formats=["date-time"])
    leap = "2026-12-31T23:59:60Z"
    # The discrepancy: the Rust engine's own date-time check accepts a leap second, rfc3339-validator does not.
    assert jsonschema_rs.Draft202012Validator(date_time, validate_formats=True).is_valid(leap)
    assert not jsonschema.Draft202012Validator(date_time, format_checker=checker).is_valid(leap)
    # The runtime checks date-time with rfc3339-validator, as jsonschema does.
    assert not contracts._compile(date_time).is_valid(leap)


# --- generated instances -------------------------------------------------------------------------------------------


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for key, value in node.items():
            if key not in ("const", "enum"):
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


PATTERNS = sorted(
    {
        p
        for t, majors in contracts.schema_index().items()
        for major in majors
        for p in _patterns(contracts.resolved_schema(t, major))
    }
)

# Text with what trips engines up: newlines (Python's `$`), lone surrogates (not valid UTF-8), astral characters
# (length in code points), ASCII punctuation at the edges of the patterns' ranges.
awkward_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\n", "\r", "\ud800", "\udfff", "\U0001f600", " ", "~", "!", "-", "_", "0", "Z"]),
    ),
    max_size=80,
)
date_times = st.one_of(
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})\n?\Z"
    ),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 99999999999, 100000000000, -1, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.0, 4999.0, 1.5, -0.0, 1e20]),
    awkward_text,
    st.sampled_from(PATTERNS).flatmap(st.from_regex),
    date_times,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(awkward_text, inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid example with one to three edits at random places: what a near-miss producer would send."""
    detail_type, path = draw(st.sampled_from(VALID))
    event = copy.deepcopy(load(path))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(event))
        where = draw(st.sampled_from(paths[1:]))
        parent = event
        for part in where[:-1]:
            parent = parent[part]
        key = where[-1]
        old = parent[key]
        edit = draw(st.sampled_from(["replace", "newline", "delete", "add", "string-like"]))
        if edit == "replace":
            parent[key] = draw(json_values)
        elif edit == "newline" and isinstance(old, str):
            parent[key] = old + draw(st.sampled_from(["\n", "\n\n", "\r\n", " ", "\ud800"]))
        elif edit == "delete" and isinstance(parent, dict):
            del parent[key]
        elif edit == "add" and isinstance(old, dict):
            old[draw(awkward_text)] = draw(json_values)
        elif isinstance(old, str):
            parent[key] = draw(st.one_of(date_times, st.sampled_from(PATTERNS).flatmap(st.from_regex)))
    return detail_type, event


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_generated_events_get_the_reference_verdict(item: tuple[str, Any]) -> None:
    detail_type, event = item
    assert_same_verdict(detail_type, event)


@settings(max_examples=300, deadline=None)
@given(detail_type=st.sampled_from(EVENT_TYPES), event=json_values)
def test_arbitrary_json_gets_the_reference_verdict(detail_type: str, event: Any) -> None:
    assert_same_verdict(detail_type, event)


@settings(max_examples=400, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), data=st.data())
def test_pattern_strings_get_the_reference_verdict(pattern: str, data: st.DataObject) -> None:
    # st.from_regex follows Python's semantics, so it also draws the trailing-newline strings Python's `$` allows.
    value = data.draw(st.one_of(st.from_regex(pattern), awkward_text))
    schema = {"type": "string", "pattern": pattern}
    reference_validator = jsonschema.Draft202012Validator(reference_schema(schema))
    assert runtime_verdict(contracts._compile(schema), value) is reference_validator.is_valid(value)


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(date_times, awkward_text))
def test_date_times_get_the_reference_verdict(value: str) -> None:
    schema = {"type": "string", "format": "date-time"}
    checker = jsonschema.FormatChecker(formats=["date-time"])
    reference_verdict = jsonschema.Draft202012Validator(schema, format_checker=checker).is_valid(value)
    assert runtime_verdict(contracts._compile(schema), value) is reference_verdict


def test_pattern_list_covers_every_schema_pattern() -> None:
    # Guards the generators above: every pattern of the shared definitions is drawn from.
    shared = {p for path in sorted(contracts.SCHEMA_DIR.glob("common/*.json")) for p in _patterns(load(path))}
    assert shared and shared <= set(PATTERNS)
