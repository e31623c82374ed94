"""Where the schemas are read from and the generated files are written to."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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
HAND_WRITTEN = ("versioning.md", "delivery.md", "subscribing.md", "pacts.md", "bindings.md")
