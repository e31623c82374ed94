"""Schema loading and dereferencing, and the derived forms: registry (draft-04), consumer (open objects) and the
outcome-code enums.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from novamart_payments import failure_codes

from tools.docgen.paths import EVENTS_DIR, OUTCOME_CODES, SCHEMAS

DRAFT4_URI = "http://json-schema.org/draft-04/schema#"
REGISTRY_MAX_CHARS = 100_000

# Keywords that the draft-04 registry form must not contain (introduced in draft 06 or later).
POST_DRAFT4_KEYWORDS = frozenset(
    {
        "$anchor",
        "$comment",
        "$defs",
        "$dynamicAnchor",
        "$dynamicRef",
        "$id",
        "$recursiveAnchor",
        "$recursiveRef",
        "$vocabulary",
        "const",
        "contains",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "dependentRequired",
        "dependentSchemas",
        "deprecated",
        "else",
        "examples",
        "if",
        "maxContains",
        "minContains",
        "prefixItems",
        "propertyNames",
        "readOnly",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
        "writeOnly",
    }
)
# Keywords whose value is a map of name -> subschema, a single subschema, or a list of subschemas.
_MAP_OF_SCHEMAS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
_ONE_SCHEMA = ("additionalProperties", "items", "not", "propertyNames", "contains", "if", "then", "else")
_LIST_OF_SCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")
# Dropped from derived forms: identifiers and annotations that only make sense in the source tree.
_DROPPED = frozenset({"$schema", "$id", "$defs", "$comment", "examples"})


# ------------------------------------------------------------------------------------------------
# Schema loading and dereferencing


def load_json(path: Path) -> Any:
    if path.resolve() == OUTCOME_CODES.resolve():
        # Derived forms always see the enums of the table itself, never a stale generated file.
        return outcome_codes_schema()
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def event_schema_files() -> list[tuple[str, int, Path]]:
    """(detail-type, major, path) for every schema version, sorted for deterministic output."""
    found = []
    for path in sorted(EVENTS_DIR.glob("*/v*.json")):
        if path.stem[1:].isdigit():
            found.append((path.parent.name, int(path.stem[1:]), path))
    return sorted(found)


def _follow_pointer(doc: Any, fragment: str) -> Any:
    if not fragment:
        return doc
    if not fragment.startswith("/"):
        raise ValueError(f"only JSON-pointer fragments are supported, got #{fragment}")
    node = doc
    for raw in fragment[1:].split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _is_annotation(key: str) -> bool:
    return key.startswith("x-")


def _deref(node: Any, base: Path, stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_deref(item, base, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        file_part, _, fragment = ref.partition("#")
        target_file = (base.parent / file_part).resolve() if file_part else base
        key = f"{target_file}#{fragment}"
        if key in stack:
            raise ValueError(f"recursive $ref {ref} in {base}")
        if not target_file.is_relative_to(SCHEMAS.resolve()):
            raise ValueError(f"$ref {ref} in {base} leaves schemas/")
        target = _follow_pointer(load_json(target_file), fragment)
        resolved = _deref(target, target_file, (*stack, key))
        siblings = {k: _deref(v, base, stack) for k, v in node.items() if k != "$ref"}
        # Keywords next to $ref (descriptions) refine the shared definition for this use.
        merged = {k: v for k, v in resolved.items() if k not in siblings}
        merged.update(siblings)
        return {k: merged[k] for k in (*resolved, *siblings) if k in merged}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or _is_annotation(key):
            continue
        if key in _MAP_OF_SCHEMAS and isinstance(value, dict):
            out[key] = {name: _deref(sub, base, stack) for name, sub in value.items()}
        else:
            out[key] = _deref(value, base, stack)
    return out


def dereference(path: Path) -> dict[str, Any]:
    """The schema at ``path`` with every ``$ref`` inlined, annotations and source-tree ids removed.

    This is the form released snapshots are stored in and compared by: a change anywhere in a shared
    definition shows up in every event that uses it.
    """
    result = _deref(load_json(path), path.resolve(), ())
    assert isinstance(result, dict)
    return result


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a dereferenced schema into the draft-04 subset the EventBridge Schema Registry takes."""

    def convert(node: Any, is_schema: bool) -> Any:
        if isinstance(node, list):
            return [convert(item, is_schema) for item in node]
        if not isinstance(node, dict) or not is_schema:
            return copy.deepcopy(node)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "const":
                out["enum"] = [copy.deepcopy(value)]
            elif key in POST_DRAFT4_KEYWORDS:
                raise ValueError(f"{key} has no draft-04 equivalent; keep the schemas within the subset")
            elif key in _MAP_OF_SCHEMAS:
                out[key] = {name: convert(sub, True) for name, sub in value.items()}
            elif key in _ONE_SCHEMA or key in _LIST_OF_SCHEMAS:
                out[key] = convert(value, not isinstance(value, bool))
            else:
                out[key] = copy.deepcopy(value)
        return out

    converted = convert(schema, True)
    return {"$schema": DRAFT4_URI, **converted}


def schema_keywords(schema: Any) -> Iterable[str]:
    """Every keyword used in schema positions (property names are data, not keywords)."""
    if isinstance(schema, list):
        for item in schema:
            yield from schema_keywords(item)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        yield key
        if key in _MAP_OF_SCHEMAS and isinstance(value, dict):
            for sub in value.values():
                yield from schema_keywords(sub)
        elif key in _ONE_SCHEMA or key in _LIST_OF_SCHEMAS:
            yield from schema_keywords(value)


def registry_name(detail_type: str, major: int) -> str:
    return f"{detail_type}.v{major}.json"


def registry_form(path: Path) -> dict[str, Any]:
    """The producer's (closed) form: the registry documents exactly what the service may send."""
    return to_draft4(dereference(path))


def consumer_form(path: Path) -> dict[str, Any]:
    """The schema consuming teams validate with: the producer's schema with every object opened.

    The producer validates against the closed form, so it cannot send a field the contract does not name;
    consumers validate against this open form, so a minor version's new optional field does not make them
    reject the event (docs/events/versioning.md). Enums stay closed: a new value needs a new major.
    """
    detail_type, major = path.parent.name, int(path.stem[1:])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schemas.novamart.example/payments/consumer/{detail_type}/v{major}.json",
        **open_objects(dereference(path)),
    }


def open_objects(node: Any) -> Any:
    """``node`` with every ``additionalProperties: false`` removed, at any depth."""
    if isinstance(node, list):
        return [open_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "additionalProperties" and value is False:
            continue
        if key in _MAP_OF_SCHEMAS and isinstance(value, dict):
            out[key] = {name: open_objects(sub) for name, sub in value.items()}
        else:
            out[key] = open_objects(value)
    return out


# The ``code`` enum of each failure event, by the $defs name the event schemas reference.
CODE_DEFS = {"payment.failed": "paymentFailedCode", "refund.failed": "refundFailedCode"}


def code_def(event: str, major: int) -> str:
    """The $defs name of ``event``'s code enum in ``major``: the first major's keeps the unsuffixed name its
    released schema references; a later major that widened the enum gets its own (``paymentFailedCodeV2``)."""
    first = min(s.since_major for s in failure_codes.OUTCOME_CODES if s.event == event)
    return CODE_DEFS[event] if major <= first else f"{CODE_DEFS[event]}V{major}"


def outcome_codes_schema() -> dict[str, Any]:
    """``schemas/common/outcome-codes.json``: each failure event's code enum per major, from the table in
    failure_codes.py."""
    defs: dict[str, Any] = {}
    for event in CODE_DEFS:
        majors = sorted({s.since_major for s in failure_codes.OUTCOME_CODES if s.event == event})
        for major in majors:
            reserved = [
                s.code.value
                for s in failure_codes.OUTCOME_CODES
                if s.event == event and s.origin == "reserved" and s.since_major <= major
            ]
            defs[code_def(event, major)] = {
                "description": (
                    f"Why the {event.split('.')[0]} failed"
                    + (f" (major {major})" if major > majors[0] else "")
                    + ". Exhaustive for this major version: a new value needs a new "
                    f"major. Reserved (not emitted yet): {', '.join(reserved) or 'none'}. One page per code with what "
                    "to do: docs/events/codes/."
                ),
                "$ref": "identifiers.json#/$defs/code",
                "enum": list(failure_codes.codes_for(event, major)),
            }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.novamart.example/payments/common/outcome-codes.json",
        "title": "Failure codes of the published events",
        "description": (
            "Generated by tools/gen_docs.py from lambda_src/novamart_payments/failure_codes.py; do not edit."
        ),
        "$defs": defs,
    }


# ------------------------------------------------------------------------------------------------
# Released snapshots and the changelog


def schema_meta(path: Path) -> dict[str, Any]:
    meta = load_json(path).get("x-novamart", {})
    assert isinstance(meta, dict)
    return meta
