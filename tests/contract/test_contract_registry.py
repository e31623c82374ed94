"""The EventBridge Schema Registry forms: draft-04 only, small enough, and equivalent on the examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract_support import EXPECTED_EVENTS, SCHEMAS, example_id, invalid_examples, load, valid_examples
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from tools.docgen import schemas

REGISTRY = SCHEMAS / "registry"
REGISTRY_FILES = sorted(REGISTRY.glob("*.json"))


def _registry_validator(detail_type: str, major: str) -> Draft4Validator:
    schema = load(REGISTRY / f"{detail_type}.{major}.json")
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def test_one_registry_file_per_event_with_stable_names() -> None:
    versions = [(p.parent.name, p.stem) for p in SCHEMAS.glob("events/*/v*.json")]
    assert [p.name for p in REGISTRY_FILES] == sorted(f"{dt}.{v}.json" for dt, v in versions)
    assert {dt for dt, _ in versions} == set(EXPECTED_EVENTS)


@pytest.mark.parametrize("path", REGISTRY_FILES, ids=lambda p: p.name)
def test_registry_form_is_draft4_and_small(path: Path) -> None:
    text = path.read_text()
    assert len(text) < schemas.REGISTRY_MAX_CHARS
    schema = json.loads(text)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    used = set(schemas.schema_keywords(schema))
    assert not used & schemas.POST_DRAFT4_KEYWORDS, used & schemas.POST_DRAFT4_KEYWORDS
    assert "$ref" not in used, "registry forms must be fully dereferenced"
    assert not [k for k in used if k.startswith("x-")]
    for key in ("minimum", "maximum"):
        assert all(not isinstance(v, bool) for v in _values_of(schema, key))


def _values_of(schema: object, key: str) -> list[object]:
    if isinstance(schema, dict):
        return ([schema[key]] if key in schema else []) + [v for s in schema.values() for v in _values_of(s, key)]
    if isinstance(schema, list):
        return [v for s in schema for v in _values_of(s, key)]
    return []


@pytest.mark.parametrize("item", valid_examples(), ids=example_id)
def test_registry_form_accepts_valid_examples(item: tuple[str, Path]) -> None:
    detail_type, path = item
    _registry_validator(detail_type, path.parent.parent.name).validate(load(path))


@pytest.mark.parametrize("item", invalid_examples(), ids=example_id)
def test_registry_form_rejects_invalid_examples(item: tuple[str, Path]) -> None:
    detail_type, path = item
    case = load(path)
    with pytest.raises(ValidationError):
        _registry_validator(detail_type, path.parent.parent.name).validate(case["event"])


def test_keyword_scan_sees_nested_keywords_but_not_property_names() -> None:
    schema = {"type": "object", "properties": {"const": {"type": "string"}, "a": {"items": {"const": 1}}}}
    used = list(schemas.schema_keywords(schema))
    assert used.count("const") == 1  # the nested keyword, not the property called "const"


def test_draft4_conversion_rewrites_const_and_refuses_newer_keywords() -> None:
    converted = schemas.to_draft4({"type": "object", "properties": {"s": {"const": "X"}}})
    assert converted["properties"]["s"] == {"enum": ["X"]}
    with pytest.raises(ValueError, match="if"):
        schemas.to_draft4({"if": {"type": "string"}, "then": {"minLength": 1}})
