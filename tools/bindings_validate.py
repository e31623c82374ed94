"""Validate a NovaMart Payments event against its consumer schema (shipped in the novamart-events wheel as
``novamart_events/validate.py``; tools/gen_bindings.py copies this file there).

The schema is picked as the service picks it: by ``detail-type`` and the MAJOR of
``detail.metadata.schemaVersion``. A major this package does not know is refused, never guessed.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema


class EventInvalid(ValueError):
    """The event breaks its consumer schema, or names a detail-type or major this package does not have."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@cache
def _validator(detail_type: str, major: int) -> Any:
    folder = resources.files("novamart_events") / "schemas" / detail_type
    schema_file = folder / f"v{major}.json"
    if not schema_file.is_file():
        known = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise EventInvalid([f"no schema for {detail_type} major {major} (this package has: {known or 'none'})"])
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def validate(event: Any) -> None:
    """Raise EventInvalid listing every problem; return None when ``event`` is valid."""
    if not isinstance(event, dict):
        raise EventInvalid(["the event must be a JSON object"])
    version = ((event.get("detail") or {}).get("metadata") or {}).get("schemaVersion")
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str) or not isinstance(version, str) or not version.split(".")[0].isdigit():
        raise EventInvalid(["detail-type and detail.metadata.schemaVersion (MAJOR.MINOR) select the schema"])
    errors = sorted(_validator(detail_type, int(version.split(".")[0])).iter_errors(event), key=str)
    if errors:
        raise EventInvalid(["/" + "/".join(map(str, e.absolute_path)) + f": {e.validator} failed" for e in errors])
