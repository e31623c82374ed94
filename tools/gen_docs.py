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

``--release`` freezes every schema version that has no snapshot yet into
``schemas/released/<detail-type>/v<MAJOR>.json``; the contract tests compare the live schemas with
those snapshots so that a released version cannot change in a way that breaks its consumers.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
EVENTS_DIR = SCHEMAS / "events"
EXAMPLES_DIR = SCHEMAS / "examples"
RELEASED_DIR = SCHEMAS / "released"
REGISTRY_DIR = SCHEMAS / "registry"
DOCS_EVENTS = REPO / "docs" / "events"
ASYNCAPI = REPO / "docs" / "asyncapi.yaml"

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
    return to_draft4(dereference(path))


# ------------------------------------------------------------------------------------------------
# Catalogue


def _examples(detail_type: str, major: int, kind: str) -> list[Path]:
    return sorted((EXAMPLES_DIR / detail_type / f"v{major}" / kind).glob("*.json"))


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
        f"| registry form | [`schemas/registry/{registry_name(detail_type, major)}`]"
        f"(../../schemas/registry/{registry_name(detail_type, major)}) (JSONSchemaDraft4) |",
        "",
        "## EventBridge rule pattern",
        "",
        _json_block(_rule_pattern(source, detail_type)),
        "",
        "## Fields of `detail`",
        "",
        "Every object is closed: a field not listed here makes the event invalid. The EventBridge envelope",
        "(`version`, `id`, `account`, `time`, `region`, `resources`, `replay-name`) is optional.",
        "",
        "| field | type | required | constraints | description |",
        "|---|---|---|---|---|",
    ]
    for name, sub in detail["properties"].items():
        lines.extend(_field_rows(sub, name, name in detail.get("required", [])))
    lines += ["", "## Example", ""]
    if valid:
        lines += [f"From `schemas/examples/{detail_type}/v{major}/valid/{valid[0].name}`:", ""]
        lines += [_json_block(load_json(valid[0])), ""]
    lines += [
        "## Versioning",
        "",
        f"A `{major}.x` minor bump may only add optional fields; anything else (removing, renaming or",
        "retyping a field, a new required field, tighter limits) ships as a new major with its own schema",
        "file, and the contract tests enforce this against the released snapshot",
        f"`schemas/released/{detail_type}/v{major}.json`. Consumers should ignore fields they do not know.",
        "",
    ]
    return "\n".join(lines)


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
        "All events travel on the service's custom EventBridge bus (Terraform output `event_bus_name`).",
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
        "Machine-readable forms: [`docs/asyncapi.yaml`](../asyncapi.yaml) (AsyncAPI 3.0) and",
        "`schemas/registry/<detail-type>.v<MAJOR>.json` (draft-04, for the EventBridge Schema Registry).",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# AsyncAPI


def _camel(detail_type: str) -> str:
    words = detail_type.replace(".", "_").split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def asyncapi_doc(files: list[tuple[str, int, Path]]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (
        dt,
        major,
        path,
    ) in files:
        meta = _meta(path)
        key = _camel(dt) + (f"V{major}" if major != 1 else "")
        schema = registry_form(path)
        examples = [{"name": p.stem, "payload": load_json(p)} for p in _examples(dt, major, "valid")[:2]]
        messages[key] = {
            "name": dt,
            "title": schema.get("title", dt),
            "summary": schema.get("description", ""),
            "contentType": "application/json",
            "payload": {"schemaFormat": "application/schema+json;version=draft-04", "schema": schema},
            "examples": examples,
        }
        channels[key] = {
            "address": dt,
            "title": dt,
            "description": (
                f"EventBridge events with source `{meta['source']}` and detail-type `{dt}` on the service bus."
            ),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        action = "receive" if meta["direction"] == "consumed" else "send"
        operations[action + key[0].upper() + key[1:]] = {
            "action": action,
            "title": f"{'Consume' if action == 'receive' else 'Publish'} {dt}",
            "summary": f"{meta['producer']} -> {', '.join(meta['consumers'])}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "NovaMart Payments events",
            "version": "1.0.0",
            "description": (
                "Events the NovaMart payment service consumes from inventory and orders and publishes for "
                "orders, notifications and finance, all on one custom EventBridge bus. Generated by "
                "tools/gen_docs.py from schemas/; do not edit."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
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
    out: dict[Path, str] = {DOCS_EVENTS / "index.md": index_page(files)}
    for dt, major, path in files:
        # Only the newest major gets the catalogue page; older ones stay reachable via the registry.
        out[DOCS_EVENTS / f"{dt}.md"] = event_page(dt, major, path)
        out[REGISTRY_DIR / registry_name(dt, major)] = json.dumps(registry_form(path), indent=2) + "\n"
    out[ASYNCAPI] = dump_yaml(asyncapi_doc(files))
    return out


def _owned_files() -> set[Path]:
    """Existing files in the directories this tool owns (so that removed events are cleaned up)."""
    return set(DOCS_EVENTS.glob("*.md")) | set(REGISTRY_DIR.glob("*.json"))


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
    return problems


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
    for dt, major, path in event_schema_files():
        target = RELEASED_DIR / dt / f"v{major}.json"
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
