"""Examples and sample events against the runtime validator, and the validator's own promises."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from contract_support import (
    EXAMPLES,
    EXPECTED_EVENTS,
    SAMPLE_EVENTS,
    SCHEMAS,
    example_id,
    invalid_examples,
    load,
    object_pointers,
    string_leaves,
    valid_examples,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from novamart_payments.contracts import ContractViolation, Violation, validate_event

VALID = valid_examples()
INVALID = invalid_examples()
SAMPLES = sorted(SAMPLE_EVENTS.glob("*.json"))
SCHEMA_TEXT = "\n".join(
    p.read_text() for p in sorted(SCHEMAS.glob("common/*.json")) + sorted(SCHEMAS.glob("events/*/*.json"))
)


def _violation(event: Any) -> ContractViolation:
    with pytest.raises(ContractViolation) as info:
        validate_event(event)
    return info.value


def test_example_counts_cover_every_event_and_no_other() -> None:
    assert {p.name for p in EXAMPLES.iterdir()} == set(EXPECTED_EVENTS)
    for detail_type in EXPECTED_EVENTS:
        assert len([1 for dt, _ in VALID if dt == detail_type]) >= 2, detail_type
        assert len([1 for dt, _ in INVALID if dt == detail_type]) >= 3, detail_type
    assert len(VALID) >= 16
    assert len(INVALID) >= 24


@pytest.mark.parametrize("item", VALID, ids=example_id)
def test_valid_example_passes(item: tuple[str, Path]) -> None:
    detail_type, path = item
    event = load(path)
    assert event["detail-type"] == detail_type
    assert event["detail"]["metadata"]["schemaVersion"].split(".")[0] == path.parent.parent.name[1:]
    validate_event(event)


@pytest.mark.parametrize("item", INVALID, ids=example_id)
def test_invalid_example_fails_exactly_at_its_pointer(item: tuple[str, Path]) -> None:
    _, path = item
    case = load(path)
    assert set(case) == {"description", "mustFailAt", "event"}
    exc = _violation(case["event"])
    # Every violation at the stated pointer: an example that also fails elsewhere would not prove
    # that the stated rule is enforced.
    assert {v.pointer for v in exc.violations} == {case["mustFailAt"]}, str(exc)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_event_is_valid_and_sendable(path: Path) -> None:
    event = load(path)
    validate_event(event)
    assert set(event) == {"source", "detail-type", "detail"}
    # put-events takes Detail as a JSON string of at most 256 KB.
    assert len(json.dumps(event["detail"])) < 256 * 1024


def test_samples_cover_every_consumed_event() -> None:
    consumed = {dt for dt, (_, direction) in EXPECTED_EVENTS.items() if direction == "consumed"}
    assert {load(p)["detail-type"] for p in SAMPLES} == consumed
    assert load(SAMPLE_EVENTS / "order-placed.json")["detail-type"] == "order.ready_for_payment"


def _first_valid(detail_type: str) -> dict[str, Any]:
    return copy.deepcopy(load(next(p for dt, p in VALID if dt == detail_type)))


def test_unknown_detail_type_is_a_violation_at_detail_type() -> None:
    event = _first_valid("payment.succeeded")
    event["detail-type"] = "payment.captured"
    assert [v.pointer for v in _violation(event).violations] == ["/detail-type"]
    del event["detail-type"]
    assert [v.pointer for v in _violation(event).violations] == ["/detail-type"]


@pytest.mark.parametrize("version", ["2.0", "0.9", "1", "v1.0", "", 1.0, None])
def test_unknown_or_malformed_version_is_a_violation_at_schema_version(version: Any) -> None:
    event = _first_valid("order.cancelled")
    event["detail"]["metadata"]["schemaVersion"] = version
    assert [v.pointer for v in _violation(event).violations] == ["/detail/metadata/schemaVersion"]


def test_missing_detail_is_a_version_violation() -> None:
    event = _first_valid("order.cancelled")
    del event["detail"]
    assert [v.pointer for v in _violation(event).violations] == ["/detail/metadata/schemaVersion"]


def test_json_encoded_detail_is_reported_at_detail() -> None:
    event = _first_valid("order.cancelled")
    event["detail"] = json.dumps(event["detail"])
    assert [v.pointer for v in _violation(event).violations] == ["/detail"]


def test_non_object_event_is_rejected() -> None:
    assert [v.pointer for v in _violation(["not", "an", "object"]).violations] == [""]


def test_all_violations_are_reported_together() -> None:
    event = _first_valid("payment.failed")
    event["detail"]["data"]["code"] = "payment_not_found"  # well-formed, but not in the table of codes
    del event["detail"]["data"]["reason"]
    event["detail"]["metadata"]["occurredAt"] = "2026-02-30T10:00:00Z"
    exc = _violation(event)
    pointers = [v.pointer for v in exc.violations]
    assert pointers == ["/detail/data/code", "/detail/data/reason", "/detail/metadata/occurredAt"]
    text = str(exc)
    assert "3 violations" in text
    for v in exc.violations:
        assert f"{v.pointer}: {v.message}" in text
    assert all(isinstance(v, Violation) for v in exc.violations)
    pointer, message = exc.violations[0]
    assert (pointer, message) == (exc.violations[0].pointer, exc.violations[0].message)
    with pytest.raises(AttributeError):
        exc.violations[0].pointer = "/x"  # type: ignore[misc]


def test_format_checking_is_really_on() -> None:
    # Both values satisfy every structural keyword; only a real format checker rejects them.
    event = _first_valid("order.cancelled")
    event["detail"]["metadata"]["occurredAt"] = "2026-02-30T10:00:00Z"
    exc = _violation(event)
    assert [(v.pointer, v.message) for v in exc.violations] == [
        ("/detail/metadata/occurredAt", "must be a valid date-time")
    ]


PAN = "4242424242424242"  # the one place a card-number-like value is allowed: proving it is refused


@pytest.mark.parametrize("item", VALID, ids=example_id)
def test_card_number_is_rejected_at_every_object_level(item: tuple[str, Path]) -> None:
    event = load(item[1])
    levels = list(object_pointers(event))
    assert len(levels) >= 4
    for pointer, _ in levels:
        tampered = copy.deepcopy(event)
        target = dict(object_pointers(tampered))[pointer]
        target["cardNumber"] = PAN
        exc = _violation(tampered)
        assert [v.pointer for v in exc.violations] == [f"{pointer}/cardNumber"]
        assert PAN not in str(exc) and PAN not in repr(exc)


def test_card_number_used_as_a_key_is_redacted() -> None:
    event = _first_valid("order.ready_for_payment")
    event["detail"]["data"][PAN] = "x"
    exc = _violation(event)
    assert [v.pointer for v in exc.violations] == ["/detail/data/<redacted-key>"]
    assert PAN not in str(exc)


@pytest.mark.parametrize("item", INVALID, ids=example_id)
def test_no_instance_value_is_echoed(item: tuple[str, Path]) -> None:
    event = load(item[1])["event"]
    text = str(_violation(event)) + repr(_violation(event))
    for value in string_leaves(event):
        if len(value) >= 4 and value not in SCHEMA_TEXT:
            assert value not in text


TOKEN_TRIGGERS = ["inventory.reserved", "order.ready_for_payment"]


@settings(max_examples=200, deadline=None)
@given(
    detail_type=st.sampled_from(TOKEN_TRIGGERS),
    body=st.text(min_size=8, max_size=90),
    prefix=st.sampled_from(["pm_", "tok_", "", "sk_"]),
    break_other=st.booleans(),
)
def test_payment_token_never_appears_in_errors(detail_type: str, body: str, prefix: str, break_other: bool) -> None:
    # The marker keeps the token from being a mere substring of fixed message text (e.g. all spaces).
    token = prefix + "Zq9" + body
    event = _first_valid(detail_type)
    event["detail"]["data"]["paymentMethod"]["token"] = token
    if break_other:
        event["detail"]["data"]["amount"]["minorUnits"] = 0
        event["detail"]["data"]["paymentMethod"]["extra"] = token
    try:
        validate_event(event)
    except ContractViolation as exc:
        assert token not in str(exc) and token not in repr(exc)
        assert all(token not in v.pointer and token not in v.message for v in exc.violations)


def test_importing_contracts_is_cheap_and_validators_are_cached() -> None:
    code = (
        "import sys, json\n"
        "import novamart_payments.contracts as c\n"
        "assert 'jsonschema_rs' not in sys.modules, 'validator engine imported eagerly'\n"
        f"event = json.load(open({str(SAMPLE_EVENTS / 'order-placed.json')!r}))\n"
        "c.validate_event(event); c.validate_event(event)\n"
        "info = c._validator.cache_info()\n"
        "assert (info.misses, info.hits) == (1, 1), info\n"
        "assert 'jsonschema' not in sys.modules, 'the reference validator is for the tests only'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
