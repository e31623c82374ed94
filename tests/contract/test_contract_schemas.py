"""The schema files themselves: well-formed, complete, strict, and consistent with design.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contract_support import EXPECTED_EVENTS, SCHEMAS, load
from jsonschema import Draft202012Validator
from novamart_payments import contracts

from tools.docgen import schemas

ALL_SCHEMA_FILES = sorted(SCHEMAS.glob("common/*.json")) + sorted(SCHEMAS.glob("events/*/v*.json"))
EVENT_FILES = sorted(SCHEMAS.glob("events/*/v*.json"))


@pytest.mark.parametrize("path", ALL_SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_schema_is_valid_against_its_metaschema(path: Path) -> None:
    schema = load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", ALL_SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_schema_id_matches_its_location(path: Path) -> None:
    # $refs resolve against $id; a mismatch would make the registry serve the wrong file.
    assert load(path)["$id"] == contracts.SCHEMA_BASE_URI + path.relative_to(SCHEMAS).as_posix()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


@pytest.mark.parametrize("path", ALL_SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_refs_are_local_files(path: Path) -> None:
    for ref in _refs(load(path)):
        assert "://" not in ref, f"{ref} would be resolved over the network"
        file_part = ref.partition("#")[0]
        if file_part:
            assert (path.parent / file_part).resolve().is_file(), ref


def test_exactly_the_events_of_the_design_exist() -> None:
    found = {p.parent.name for p in EVENT_FILES}
    assert found == set(EXPECTED_EVENTS)
    assert contracts.known_event_types() == frozenset(EXPECTED_EVENTS)


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.parent.name)
def test_event_schema_pins_source_detail_type_and_direction(path: Path) -> None:
    schema = load(path)
    detail_type = path.parent.name
    source, direction = EXPECTED_EVENTS[detail_type]
    assert schema["properties"]["detail-type"]["const"] == detail_type
    assert schema["properties"]["source"]["const"] == source
    assert schema["x-novamart"]["direction"] == direction
    assert schema["x-novamart"]["source"] == source
    assert schema["x-novamart"]["version"].startswith(path.stem[1:] + ".")
    metadata = schema["properties"]["detail"]["properties"]["metadata"]["$ref"]
    assert metadata.endswith(("publishedV" if direction == "published" else "consumedV") + path.stem[1:])


def _walk(node: Any, pointer: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = [(pointer, node)]
    for name, sub in node.get("properties", {}).items():
        out += _walk(sub, f"{pointer}/properties/{name}")
    if isinstance(node.get("items"), dict):
        out += _walk(node["items"], f"{pointer}/items")
    return out


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.parent.name)
def test_every_object_is_closed_and_every_string_and_array_bounded(path: Path) -> None:
    for pointer, node in _walk(schemas.dereference(path)):
        kinds = node.get("type")
        if kinds == "object":
            assert node.get("additionalProperties") is False, f"{pointer} is open"
        if kinds == "string" and "enum" not in node and "const" not in node:
            assert "maxLength" in node, f"{pointer} is an unbounded string"
        if kinds == "array":
            assert "maxItems" in node, f"{pointer} is an unbounded array"


def test_money_bounds_are_the_documented_ones() -> None:
    money = load(SCHEMAS / "common" / "money.json")
    minor = money["properties"]["minorUnits"]
    assert (minor["type"], minor["minimum"], minor["maximum"]) == ("integer", 1, 99999999999)
    assert "99999999999" in money["description"]
    assert 99999999999 < 2**53


REQUIRED_CURRENCIES = {
    "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "CHF": 2, "CAD": 2, "AUD": 2,
}  # fmt: skip


def test_currency_table_enum_and_exponents_agree() -> None:
    table = load(SCHEMAS / "common" / "currencies.json")
    assert sorted(table["enum"]) == sorted(table["x-minorUnitExponent"])
    assert table["enum"] == sorted(table["enum"])
    for code, exponent in REQUIRED_CURRENCIES.items():
        assert table["x-minorUnitExponent"][code] == exponent


def test_currency_accessors_follow_the_table() -> None:
    table = load(SCHEMAS / "common" / "currencies.json")["x-minorUnitExponent"]
    assert contracts.supported_currencies() == frozenset(table)
    for code, exponent in table.items():
        assert contracts.currency_exponent(code) == exponent
    for bad in ("XTS", "usd", ""):
        with pytest.raises(contracts.UnsupportedCurrency):
            contracts.currency_exponent(bad)


def test_money_helpers_use_the_exponent() -> None:
    from novamart_payments import money

    assert money.format_amount(5, "USD") == "0.05 USD"
    assert money.format_amount(12800, "JPY") == "12800 JPY"
    assert money.format_amount(2345, "BHD") == "2.345 BHD"


def test_schema_dir_is_the_repository_schemas_in_a_checkout() -> None:
    assert contracts.SCHEMA_DIR.resolve() == SCHEMAS.resolve()


def _formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(v) for v in node))
    return set()


def test_schemas_use_only_formats_the_validator_checks() -> None:
    used = set().union(*(_formats(load(p)) for p in ALL_SCHEMA_FILES))
    assert used == set(contracts.USED_FORMATS)
    # Each used format is really checked by the runtime engine (with formats off they are annotations).
    for fmt, wrong in {"date-time": "2026-02-30T10:00:00Z", "uuid": "not-a-uuid"}.items():
        assert not contracts._compile({"type": "string", "format": fmt}).is_valid(wrong), fmt


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.parent.name)
def test_runtime_schema_is_fully_inlined_and_matches_the_published_form(path: Path) -> None:
    resolved = contracts.resolved_schema(path.parent.name, int(path.stem[1:]))
    assert "$ref" not in json.dumps(resolved)
    # Same constraints as the dereferenced form the docs and snapshots use (annotations aside).
    assert schemas._deref(dict(resolved), path.resolve(), ()) == schemas.dereference(path)
