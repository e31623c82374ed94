#!/usr/bin/env python3
"""Generate the consumer-facing artefacts that derive from ``schemas/``.

Everything here is derived, never edited by hand, so that the catalogue the other teams read, the
AsyncAPI document and the Schema Registry payloads can never disagree with the schemas the Lambdas
validate against. ``--check`` is what CI runs: it rewrites nothing and fails when a committed file is
stale, listing which.

Outputs:
- ``docs/events/index.md`` and ``docs/events/<detail-type>.md``: the event catalogue
- ``docs/asyncapi.yaml``: AsyncAPI 3.0 description of the service's channels
- ``schemas/registry/<detail-type>.v<MAJOR>.json``: fully dereferenced draft-04 form for the
  EventBridge Schema Registry (``aws_schemas_schema`` type ``JSONSchemaDraft4``)
- ``schemas/consumer/<detail-type>/v<MAJOR>.json``: the consumer form (dereferenced, every object open) that
  consuming teams validate with, so that a minor version's new optional field does not break them
- ``schemas/common/outcome-codes.json``: the failure-code enums, from ``novamart_payments.outcomes``
- ``docs/events/codes/``: one page per failure code; ``docs/events/changelog.md``: per-event changelog from
  the released snapshots

``--release`` freezes every schema version that has no snapshot yet into
``schemas/released/<detail-type>/v<MAJOR>.json`` (version MAJOR.0) or ``v<MAJOR>.<MINOR>.json``; the
contract tests compare the live schemas with those snapshots so that a released version cannot change in a
way that breaks its consumers (docs/events/versioning.md).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "lambda_src") not in sys.path:
    sys.path.insert(0, str(REPO / "lambda_src"))

from novamart_payments import outcomes  # noqa: E402  (the table of failure codes the schemas derive from)

SCHEMAS = REPO / "schemas"
EVENTS_DIR = SCHEMAS / "events"
EXAMPLES_DIR = SCHEMAS / "examples"
RELEASED_DIR = SCHEMAS / "released"
REGISTRY_DIR = SCHEMAS / "registry"
DOCS_EVENTS = REPO / "docs" / "events"
ASYNCAPI = REPO / "docs" / "asyncapi.yaml"
CONSUMER_DIR = SCHEMAS / "consumer"
OUTCOME_CODES = SCHEMAS / "common" / "outcome-codes.json"
CODES_DIR = DOCS_EVENTS / "codes"
CHANGELOG = DOCS_EVENTS / "changelog.md"
# Pages written by hand next to the generated ones; --check makes sure they exist and their links resolve.
HAND_WRITTEN = ("versioning.md", "delivery.md", "subscribing.md")

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


def outcome_codes_schema() -> dict[str, Any]:
    """``schemas/common/outcome-codes.json``: each failure event's code enum, from the table in outcomes.py."""
    defs: dict[str, Any] = {}
    for event, name in CODE_DEFS.items():
        reserved = [s.code.value for s in outcomes.OUTCOME_CODES if s.event == event and s.origin == "reserved"]
        defs[name] = {
            "description": (
                f"Why the {event.split('.')[0]} failed. Exhaustive for this major version: a new value needs a new "
                f"major. Reserved (not emitted yet): {', '.join(reserved) or 'none'}. One page per code with what "
                "to do: docs/events/codes/."
            ),
            "$ref": "identifiers.json#/$defs/code",
            "enum": list(outcomes.codes_for(event)),
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.novamart.example/payments/common/outcome-codes.json",
        "title": "Failure codes of the published events",
        "description": "Generated by tools/gen_docs.py from lambda_src/novamart_payments/outcomes.py; do not edit.",
        "$defs": defs,
    }


# ------------------------------------------------------------------------------------------------
# Released snapshots and the changelog


def parse_version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def snapshot_name(version: tuple[int, int]) -> str:
    """``v1.json`` holds 1.0 (the name the first snapshots were released under), ``v1.2.json`` holds 1.2."""
    major, minor = version
    return f"v{major}.json" if minor == 0 else f"v{major}.{minor}.json"


def released_versions(detail_type: str) -> list[tuple[tuple[int, int], Path]]:
    """Every released snapshot of ``detail_type``, oldest first."""
    found = [(parse_version(p.stem[1:]), p) for p in (RELEASED_DIR / detail_type).glob("v*.json")]
    return sorted(found)


def _field(where: tuple[str, ...]) -> str:
    return ".".join(where) or "(event)"


def describe_changes(old: Any, new: Any, where: tuple[str, ...] = ()) -> list[str]:
    """Plain-language structural differences between two dereferenced schemas, for the changelog.

    Descriptions and titles are left out: they do not change what an event may contain.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"`{_field(where)}` changed"]
    out = []
    for keyword in ("type", "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum"):
        if old.get(keyword) != new.get(keyword):
            before, after = old.get(keyword, "(none)"), new.get(keyword, "(none)")
            out.append(f"`{_field(where)}`: {keyword} {json.dumps(before)} → {json.dumps(after)}")
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum != new_enum:
        if old_enum is None:
            out.append(f"`{_field(where)}`: now one of {', '.join(f'`{v}`' for v in new_enum)}")
        elif new_enum is None:
            out.append(f"`{_field(where)}`: no longer limited to a list of values")
        else:
            added = [v for v in new_enum if v not in old_enum]
            removed = [v for v in old_enum if v not in new_enum]
            if added:
                out.append(f"`{_field(where)}`: values added: {', '.join(f'`{v}`' for v in added)}")
            if removed:
                out.append(f"`{_field(where)}`: values removed: {', '.join(f'`{v}`' for v in removed)}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    new_required = set(new.get("required", []))
    old_required = set(old.get("required", []))
    for name in new_props:
        if name not in old_props:
            kind = "required" if name in new_required else "optional"
            out.append(f"`{_field((*where, name))}` added ({kind})")
    for name in old_props:
        if name not in new_props:
            out.append(f"`{_field((*where, name))}` removed")
        else:
            out.extend(describe_changes(old_props[name], new_props[name], (*where, name)))
            if name in new_required and name not in old_required:
                out.append(f"`{_field((*where, name))}` now required")
            elif name in old_required and name not in new_required:
                out.append(f"`{_field((*where, name))}` now optional")
    if old.get("additionalProperties", True) != new.get("additionalProperties", True):
        state = "closed" if new.get("additionalProperties", True) is False else "open"
        out.append(f"`{_field(where)}`: object now {state}")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        out.extend(describe_changes(old["items"], new["items"], (*where, "[]")))
    return out


def _strip_detail(changes: list[str]) -> list[str]:
    return [c.replace("`detail.", "`") for c in changes]


def changelog_page(files: list[tuple[str, int, Path]]) -> str:
    lines = [
        "# Changelog of the event contracts",
        "",
        "<!-- Generated by tools/gen_docs.py from schemas/released/ and schemas/events/; do not edit. -->",
        "",
        "One section per event, newest version first, computed from the released snapshots in",
        "`schemas/released/` (field paths are under `detail`). What each kind of change means for consumers:",
        "[versioning.md](versioning.md).",
        "",
    ]
    newest = {dt: path for dt, _major, path in files}
    for detail_type in sorted(newest):
        path = newest[detail_type]
        entries: list[tuple[str, list[str]]] = []
        previous: Any = None
        for version, snapshot in released_versions(detail_type):
            schema = load_json(snapshot)
            label = f"{version[0]}.{version[1]}"
            if previous is None:
                entries.append((label, ["first release"]))
            else:
                entries.append((label, _strip_detail(describe_changes(previous, schema)) or ["documentation only"]))
            previous = schema
        current = dereference(path)
        pending = _strip_detail(describe_changes(previous, current)) if previous is not None else []
        if pending:
            entries.append((f"{_meta(path)['version']} (not released yet)", pending))
        lines += [f"## [`{detail_type}`]({detail_type}.md)", ""]
        for label, changes in reversed(entries):
            lines.append(f"- **{label}**")
            lines.extend(f"  - {change}" for change in changes)
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# One page per failure code


_CODE_STATUS = {
    "service": "emitted (decided by the service)",
    "gateway": "emitted (the gateway's answer, from every adapter)",
    "stripe": "emitted by the Stripe adapter (GATEWAY_MODE=stripe)",
    "reserved": "reserved: not emitted yet",
}


def _code_example(spec: outcomes.CodeSpec) -> Path | None:
    """The first valid example of the newest major of the code's event that carries the code."""
    major = max(m for dt, m, _ in event_schema_files() if dt == spec.event)
    for path in _examples(spec.event, major, "valid"):
        if load_json(path)["detail"]["data"].get("code") == spec.code.value:
            return path
    return None


def _code_page(spec: outcomes.CodeSpec) -> str:
    state = _CODE_STATUS[spec.origin]
    lines = [
        f"# `{spec.code.value}`",
        "",
        "<!-- Generated by tools/gen_docs.py from lambda_src/novamart_payments/outcomes.py; do not edit. -->",
        "",
        "| | |",
        "|---|---|",
        f"| event | [`{spec.event}`](../{spec.event}.md), `detail.data.code` |",
        f"| status | {state} |",
        "",
        "## What it means",
        "",
        spec.meaning,
        "",
        "## What a consumer should do",
        "",
        spec.action.value[0].upper() + spec.action.value[1:] + ".",
        "",
    ]
    if spec.note:
        lines += ["## Note", "", spec.note, ""]
    example = _code_example(spec)
    if example is not None:
        lines += [
            "## Example",
            "",
            f"`{example.relative_to(REPO).as_posix()}`:",
            "",
            _json_block(load_json(example)),
            "",
        ]
    lines += [
        "Read `detail.data.reason` (payment.failed) or `detail.data.failureReason` (refund.failed) only to show",
        "or log it; branch on the code. Every code of the event is listed in [the code index](index.md).",
        "",
    ]
    return "\n".join(lines)


def codes_index_page() -> str:
    lines = [
        "# Failure codes",
        "",
        "<!-- Generated by tools/gen_docs.py from lambda_src/novamart_payments/outcomes.py; do not edit. -->",
        "",
        "The complete list of `detail.data.code` values of `payment.failed` and `refund.failed`. The schemas'",
        "enums are generated from the same table, and a contract test fails if the service can emit a code that",
        "is not listed here. A code marked reserved is already in the enum but not emitted yet; handle it now.",
        "",
        "| code | event | status | what to do |",
        "|---|---|---|---|",
    ]
    for spec in outcomes.OUTCOME_CODES:
        status = _CODE_STATUS[spec.origin].split(" (")[0].split(":")[0]
        lines.append(
            f"| [`{spec.code.value}`]({spec.code.value}.md) | `{spec.event}` | {status} | {spec.action.value} |"
        )
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Catalogue


def _examples(detail_type: str, major: int, kind: str) -> list[Path]:
    """Examples of one version; those captured from a local run (tools/capture_examples.py) first, since
    they are what the service really sends."""
    found = (EXAMPLES_DIR / detail_type / f"v{major}" / kind).glob("*.json")
    return sorted(found, key=lambda p: (not p.name.startswith("local-run-"), p.name))


def _json_block(value: Any) -> str:
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n```"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _constraints(node: dict[str, Any]) -> str:
    parts = []
    if "const" in node:
        parts.append(f"always `{json.dumps(node['const'])}`")
    if "enum" in node:
        parts.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    if "format" in node:
        parts.append(f"format {node['format']}")
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    if "minLength" in node or "maxLength" in node:
        parts.append(f"length {node.get('minLength', 0)}..{node.get('maxLength', '∞')}")
    if "minimum" in node or "maximum" in node:
        parts.append(f"{node.get('minimum', '-∞')}..{node.get('maximum', '∞')}")
    if "maxItems" in node:
        parts.append(f"at most {node['maxItems']} items")
    if node.get("additionalProperties") is False:
        parts.append("closed (no other fields)")
    return "; ".join(parts)


def _field_rows(node: dict[str, Any], path: str, required: bool) -> list[str]:
    kind = node.get("type", "")
    if "const" in node and not kind:
        kind = type(node["const"]).__name__.replace("str", "string")
    row = (
        f"| `{path}` | {kind} | {'yes' if required else 'no'} | {_cell(_constraints(node))} | "
        f"{_cell(node.get('description', ''))} |"
    )
    rows = [row]
    for name, sub in node.get("properties", {}).items():
        rows.extend(_field_rows(sub, f"{path}.{name}" if path else name, name in node.get("required", [])))
    items = node.get("items")
    if isinstance(items, dict) and items.get("type") == "object":
        rows.extend(_field_rows(items, f"{path}[]", True))
    return rows


def _meta(path: Path) -> dict[str, Any]:
    meta = load_json(path).get("x-novamart", {})
    assert isinstance(meta, dict)
    return meta


def _rule_pattern(source: str, detail_type: str) -> dict[str, Any]:
    return {"source": [source], "detail-type": [detail_type]}


def event_page(detail_type: str, major: int, path: Path) -> str:
    meta = _meta(path)
    schema = dereference(path)
    detail = schema["properties"]["detail"]
    source = meta["source"]
    valid = _examples(detail_type, major, "valid")
    lines = [
        f"# `{detail_type}` (v{major})",
        "",
        "<!-- Generated by tools/gen_docs.py from schemas/; do not edit. -->",
        "",
        schema.get("description", ""),
        "",
        "| | |",
        "|---|---|",
        f"| detail-type | `{detail_type}` |",
        f"| source | `{source}` |",
        f"| direction | {meta['direction']} by the payment service |",
        f"| producer | {meta['producer']} |",
        f"| consumers | {', '.join(meta['consumers'])} |",
        f"| current version | `{meta['version']}` (`detail.metadata.schemaVersion`; its major selects the schema) |",
        f"| schema | [`schemas/events/{detail_type}/v{major}.json`]"
        f"(../../schemas/events/{detail_type}/v{major}.json) |",
        f"| consumer schema | [`schemas/consumer/{detail_type}/v{major}.json`]"
        f"(../../schemas/consumer/{detail_type}/v{major}.json) (validate with this one: objects open) |",
        f"| registry form | [`schemas/registry/{registry_name(detail_type, major)}`]"
        f"(../../schemas/registry/{registry_name(detail_type, major)}) (JSONSchemaDraft4, closed) |",
        f"| changes | [changelog](changelog.md#{detail_type.replace('.', '')}) |",
        "",
        "## EventBridge rule pattern",
        "",
        _json_block(_rule_pattern(source, detail_type)),
        "",
        "## Fields of `detail`",
        "",
        "The producer's schema is closed (it cannot send a field not listed here); validate with the consumer",
        "schema, which is open, and ignore fields you do not know. The EventBridge envelope (`version`, `id`,",
        "`account`, `time`, `region`, `resources`, `replay-name`) is optional.",
        "",
        "| field | type | required | constraints | description |",
        "|---|---|---|---|---|",
    ]
    for name, sub in detail["properties"].items():
        lines.extend(_field_rows(sub, name, name in detail.get("required", [])))
    if detail_type in CODE_DEFS:
        lines += ["", "## Codes", "", "`data.code` is one of these; each page says what to do:", ""]
        for spec in outcomes.OUTCOME_CODES:
            if spec.event == detail_type:
                reserved = " (reserved)" if spec.origin == "reserved" else ""
                lines.append(f"- [`{spec.code.value}`](codes/{spec.code.value}.md){reserved}: {spec.meaning}")
    lines += ["", "## Example", ""]
    if valid:
        origin = " (captured from a local run by `make examples`)" if valid[0].name.startswith("local-run-") else ""
        lines += [f"From `schemas/examples/{detail_type}/v{major}/valid/{valid[0].name}`{origin}:", ""]
        lines += [_json_block(load_json(valid[0])), ""]
    lines += [
        "## Versioning",
        "",
        f"A `{major}.x` minor version may add optional fields{_minor_rule(meta)}; anything else ships as a new",
        "major with its own schema file, and the contract tests enforce this against the released snapshots",
        f"`schemas/released/{detail_type}/v{major}*.json`. The rules and how to validate:",
        "[versioning.md](versioning.md).",
        "",
    ]
    return "\n".join(lines)


def _minor_rule(meta: dict[str, Any]) -> str:
    if meta["direction"] == "published":
        return " or narrow what the producer may send (fewer values, tighter limits)"
    return " or accept more (more values, looser limits)"


def index_page(files: list[tuple[str, int, Path]]) -> str:
    consumed = [(dt, m, p, _meta(p)) for dt, m, p in files if _meta(p)["direction"] == "consumed"]
    published = [(dt, m, p, _meta(p)) for dt, m, p in files if _meta(p)["direction"] == "published"]
    lines = [
        "# NovaMart Payments event catalogue",
        "",
        "<!-- Generated by tools/gen_docs.py from schemas/; do not edit. -->",
        "",
        "```mermaid",
        "flowchart LR",
    ]
    # Short, stable node ids: Mermaid ids cannot contain dots or spaces, and the labels carry the names.
    sources = sorted({meta["source"] for _, _, _, meta in consumed})
    handlers = sorted({meta["producer"] for _, _, _, meta in published})
    ids = {name: f"src{i}" for i, name in enumerate(sources)} | {name: f"fn{i}" for i, name in enumerate(handlers)}
    for source in sources:
        lines.append(f'    {ids[source]}(["{source}"])')
    lines.append('    subgraph payments ["novamart.payments"]')
    for handler in handlers:
        lines.append(f'        {ids[handler]}["{handler}"]')
    lines.append("    end")
    lines.append('    downstream(["orders / notifications / finance"])')
    for dt, _, _, meta in consumed:
        for consumer in meta["consumers"]:
            lines.append(f'    {ids[meta["source"]]} -->|"{dt}"| {ids[consumer]}')
    for dt, _, _, meta in published:
        lines.append(f'    {ids[meta["producer"]]} -->|"{dt}"| downstream')
    lines += ["```", ""]
    lines += [
        "All events travel on the service's EventBridge bus: `default` unless the deployment sets",
        "`event_bus_name` (Terraform output `event_bus_name`); another account subscribes as",
        "[subscribing.md](subscribing.md) describes.",
        "Each event is a whole EventBridge event: `source`, `detail-type` and",
        '`detail = {"metadata": {...}, "data": {...}}`; the schema is selected by `detail-type` and the',
        'major of `detail.metadata.schemaVersion`. Money is `{"minorUnits": <integer>, "currency": <ISO 4217>}`',
        "with the exponents in `schemas/common/currencies.json`.",
        "",
        "| detail-type | version | source | direction | producer | consumers |",
        "|---|---|---|---|---|---|",
    ]
    for dt, _major, _path, meta in consumed + published:
        lines.append(
            f"| [`{dt}`]({dt}.md) | {meta['version']} | `{meta['source']}` | {meta['direction']} | "
            f"{meta['producer']} | {', '.join(meta['consumers'])} |"
        )
    lines += [
        "",
        "Machine-readable forms: [`docs/asyncapi.yaml`](../asyncapi.yaml) (AsyncAPI 3.0),",
        "`schemas/consumer/<detail-type>/v<MAJOR>.json` (what consumers validate with) and",
        "`schemas/registry/<detail-type>.v<MAJOR>.json` (draft-04, for the EventBridge Schema Registry);",
        "typed Python and TypeScript bindings come from `make bindings`.",
        "",
        "For consuming teams:",
        "",
        "- [Delivery semantics](delivery.md): at-least-once, deduplication by `eventId`, no ordering, which",
        "  triggers produce no outcome.",
        "- [Failure codes](codes/index.md): every `code` and what to do about it.",
        "- [Versioning policy](versioning.md) and the [changelog](changelog.md).",
        "- [Subscribing from another account](subscribing.md).",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# AsyncAPI


def _camel(detail_type: str) -> str:
    words = detail_type.replace(".", "_").split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def _pascal(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in text.replace(".", "_").replace("-", "_").split("_") if w)


# Properties whose definition is shared by several events, and the component name it gets.
_SHARED_NAMES = {
    "amount": "Money",
    "currency": "Currency",
    "paymentMethod": "PaymentMethod",
    "version": "EnvelopeVersion",
}


class _Components:
    """Lifts every object and enum of the payload schemas into named ``components.schemas``.

    Code generators name what is inline ``AnonymousSchema_N``; here each gets a name: a shared one where the
    definition is shared (``Money``, ``Currency``, ``PublishedMetadataV1`` ...), else the event's name plus
    the property path. Identical definitions share one component.
    """

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._by_content: dict[str, str] = {}

    def lift(self, node: Any, candidates: list[str]) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        if isinstance(node.get("properties"), dict):
            out["properties"] = {
                name: self.lift(sub, self._names(name, sub, candidates)) for name, sub in node["properties"].items()
            }
        if isinstance(node.get("items"), dict):
            out["items"] = self.lift(node["items"], [c + "Item" for c in candidates])
        if node.get("type") != "object" and "enum" not in node:
            return out
        content = json.dumps(out, sort_keys=True)
        if content not in self._by_content:
            name = next(c for c in [*candidates, f"{candidates[-1]}{len(self.schemas)}"] if c not in self.schemas)
            self.schemas[name] = out
            self._by_content[content] = name
        return {"$ref": f"#/components/schemas/{self._by_content[content]}"}

    def _names(self, prop: str, sub: Any, parents: list[str]) -> list[str]:
        own = [parents[-1] + _pascal(prop)]
        if prop == "metadata" and isinstance(sub, dict):
            required = sub.get("required", [])
            pattern = sub.get("properties", {}).get("schemaVersion", {}).get("pattern", "^1")
            own.insert(0, f"{'Published' if 'causationId' in required else 'Consumed'}MetadataV{pattern[1]}")
        elif prop == "data":
            own = [parents[-1].removesuffix("Detail") + "Data"]
        elif prop == "code" and parents[-1].endswith("Data"):
            own.insert(0, parents[-1].removesuffix("Data").removesuffix("Failed") + "FailureCode")
        elif prop in _SHARED_NAMES:
            own.insert(0, _SHARED_NAMES[prop])
        return own


def _rule_pattern_x(source: str, detail_type: str, major: int) -> dict[str, Any]:
    pattern = _rule_pattern(source, detail_type)
    pattern["detail"] = {"metadata": {"schemaVersion": [{"prefix": f"{major}."}]}}
    return pattern


def asyncapi_doc(files: list[tuple[str, int, Path]]) -> dict[str, Any]:
    """AsyncAPI 3.0 for generators and people: named schemas and messages, the bus as server, the rule
    pattern of each channel (``x-eventbridge``), correlation ids. Payloads are the consumer forms."""
    components = _Components()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    newest = {dt: (major, path) for dt, major, path in files}
    for dt, (major, path) in sorted(newest.items()):
        meta = _meta(path)
        key = _camel(dt)
        name = _pascal(dt)
        schema = consumer_form(path)
        # No title: generators would name the model after it; the component key is the name.
        payload = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "title")}
        payload_ref = components.lift(payload, [name])
        examples = [{"name": p.stem, "payload": load_json(p)} for p in _examples(dt, major, "valid")[:2]]
        messages[name] = {
            "name": dt,
            "title": schema.get("title", dt),
            "summary": schema.get("description", ""),
            "contentType": "application/json",
            "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
            "tags": [{"name": meta["direction"]}, {"name": meta["source"]}],
            "payload": payload_ref,
            "examples": examples,
        }
        channels[key] = {
            "address": dt,
            "title": dt,
            "description": (
                f"EventBridge events with source `{meta['source']}` and detail-type `{dt}` on the service bus; "
                f"schema version {meta['version']}."
            ),
            "servers": [{"$ref": "#/servers/eventBus"}],
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "x-eventbridge": {
                "source": meta["source"],
                "detailType": dt,
                "rulePattern": _rule_pattern_x(meta["source"], dt, major),
            },
        }
        action = "receive" if meta["direction"] == "consumed" else "send"
        operations[action + name] = {
            "action": action,
            "title": f"{'Consume' if action == 'receive' else 'Publish'} {dt}",
            "summary": f"{meta['producer']} -> {', '.join(meta['consumers'])}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{name}"}],
            "tags": [{"name": meta["direction"]}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "NovaMart Payments events",
            "version": "1.1.0",
            "description": (
                "Events the NovaMart payment service consumes from inventory and orders and publishes for "
                "orders, notifications and finance, all on one EventBridge bus. Payload schemas are the consumer "
                "forms (objects open: ignore fields you do not know); versioning, delivery semantics and failure "
                "codes: docs/events/. Generated by tools/gen_docs.py from schemas/; do not edit."
            ),
            "contact": {"name": "NovaMart Payments team", "email": "payments@novamart.example"},
            "tags": [
                {"name": "published", "description": "Events the payment service publishes."},
                {"name": "consumed", "description": "Events the payment service consumes."},
                {"name": "novamart.payments"},
                {"name": "novamart.orders"},
                {"name": "novamart.inventory"},
            ],
            "externalDocs": {"description": "Event catalogue", "url": "https://schemas.novamart.example/payments/"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "eventBus": {
                "host": "events.{region}.amazonaws.com",
                "pathname": "/{account}/{eventBusName}",
                "protocol": "https",
                "title": "The service's EventBridge bus",
                "description": (
                    "Amazon EventBridge PutEvents endpoint of the bus the service consumes from and publishes to. "
                    "Another account subscribes with a rule on this bus (docs/events/subscribing.md)."
                ),
                "variables": {
                    "region": {"default": "us-east-2", "description": "AWS region of the deployment."},
                    "account": {
                        "description": "12-digit AWS account id of the deployment.",
                        "examples": ["123456789012"],
                    },
                    "eventBusName": {"default": "default", "description": "Terraform variable event_bus_name."},
                },
                "tags": [{"name": "novamart.payments"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": components.schemas,
            "messages": messages,
            "correlationIds": {
                "correlationId": {
                    "description": "Shared by every event of one order's flow; copied into published events.",
                    "location": "$message.payload#/detail/metadata/correlationId",
                }
            },
        },
    }


def dump_yaml(doc: Any) -> str:
    try:
        import yaml
    except ImportError:  # JSON is valid YAML 1.2; keeps the generator usable without PyYAML.
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    header = "# Generated by tools/gen_docs.py from schemas/; do not edit.\n"
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return header + str(body)


# ------------------------------------------------------------------------------------------------
# Driver


def render_all() -> dict[Path, str]:
    """Every generated file and its exact content."""
    files = event_schema_files()
    out: dict[Path, str] = {
        OUTCOME_CODES: json.dumps(outcome_codes_schema(), indent=2) + "\n",
        DOCS_EVENTS / "index.md": index_page(files),
        CHANGELOG: changelog_page(files),
        CODES_DIR / "index.md": codes_index_page(),
    }
    for spec in outcomes.OUTCOME_CODES:
        out[CODES_DIR / f"{spec.code.value}.md"] = _code_page(spec)
    for dt, major, path in files:
        out[CONSUMER_DIR / dt / f"v{major}.json"] = json.dumps(consumer_form(path), indent=2) + "\n"
        # Only the newest major gets the catalogue page; older ones stay reachable via the registry.
        out[DOCS_EVENTS / f"{dt}.md"] = event_page(dt, major, path)
        out[REGISTRY_DIR / registry_name(dt, major)] = json.dumps(registry_form(path), indent=2) + "\n"
    out[ASYNCAPI] = dump_yaml(asyncapi_doc(files))
    return out


def _owned_files() -> set[Path]:
    """Existing files in the directories this tool owns (so that removed events are cleaned up)."""
    generated_md = {p for p in DOCS_EVENTS.glob("*.md") if p.name not in HAND_WRITTEN}
    return (
        generated_md
        | set(CODES_DIR.glob("*.md"))
        | set(REGISTRY_DIR.glob("*.json"))
        | set(CONSUMER_DIR.glob("*/*.json"))
    )


def broken_links(pages: Iterable[Path]) -> list[str]:
    """Relative links in ``pages`` whose target file does not exist."""
    problems = []
    for page in pages:
        if not page.exists():
            continue
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                problems.append(f"broken link: {page.relative_to(REPO)} -> {target}")
    return problems


def check(rendered: dict[Path, str]) -> list[str]:
    problems = []
    for path, content in sorted(rendered.items()):
        rel = path.relative_to(REPO)
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"stale:   {rel}")
    for path in sorted(_owned_files() - set(rendered)):
        problems.append(f"orphan:  {path.relative_to(REPO)}")
    hand_written = [DOCS_EVENTS / name for name in HAND_WRITTEN]
    problems += [f"missing: {p.relative_to(REPO)} (written by hand)" for p in hand_written if not p.exists()]
    return problems + broken_links([*hand_written, *(p for p in rendered if p.suffix == ".md")])


def write(rendered: dict[Path, str]) -> list[Path]:
    changed = []
    for path in sorted(_owned_files() - set(rendered)):
        path.unlink()
        changed.append(path)
    for path, content in sorted(rendered.items()):
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


RELEASED_SUMS = RELEASED_DIR / "SHA256SUMS"


def released_sums() -> dict[str, str]:
    """Relative snapshot path -> sha256 recorded when it was released."""
    if not RELEASED_SUMS.exists():
        return {}
    sums = {}
    for line in RELEASED_SUMS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def release() -> list[Path]:
    """Freeze versions that have no snapshot yet; an existing snapshot is never overwritten.

    The checksum file makes an edit to a snapshot (the easy way to silence the compatibility test)
    a visible, deliberate change in review instead of a quiet one.
    """
    written = []
    sums = released_sums()
    for dt, _major, path in event_schema_files():
        target = RELEASED_DIR / dt / snapshot_name(parse_version(_meta(path)["version"]))
        if not target.exists():
            content = json.dumps(dereference(path), indent=2) + "\n"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            sums[target.relative_to(RELEASED_DIR).as_posix()] = hashlib.sha256(content.encode()).hexdigest()
            written.append(target)
    if written:
        RELEASED_SUMS.write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.add_argument("--release", action="store_true", help="snapshot schema versions not yet in schemas/released/")
    args = parser.parse_args(argv)
    if args.release:
        for path in release():
            print(f"released {path.relative_to(REPO)}")
        return 0
    rendered = render_all()
    if args.check:
        problems = check(rendered)
        if problems:
            print("Generated docs are out of date with schemas/ (run `make docs` and commit):", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"docs up to date ({len(rendered)} files)")
        return 0
    for path in write(rendered):
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
