"""The committed JSON Schemas, found and loaded: each event's schema by detail-type and major, with every ``$ref``
inlined (from the Lambda zip's pre-inlined copy when there is one).

The schemas in ``schemas/`` are the single source of truth shared with the producing and consuming teams; this
module only reads them, inside ``SCHEMA_DIR``, so no reference can ever trigger a network fetch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any


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


@lru_cache(maxsize=1)
def schema_index() -> Mapping[str, Mapping[int, Path]]:
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
    return frozenset(schema_index())


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
    path = schema_index()[detail_type][major]
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
