"""Generated consumer docs are committed up to date, complete and deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_support import EXPECTED_EVENTS, REPO, load
from jsonschema import Draft7Validator

from tools.docgen import build


def test_committed_docs_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = build.main(["--check"])
    assert code == 0, "stale generated files; run `make docs` and commit:\n" + capsys.readouterr().err


def test_generation_is_deterministic() -> None:
    assert build.render_all() == build.render_all()


def test_check_mode_fails_and_lists_stale_missing_and_orphan_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rendered = build.render_all()
    docs = tmp_path / "docs" / "events"
    registry = tmp_path / "schemas" / "registry"
    moved: dict[Path, str] = {}
    for path, content in rendered.items():
        target = tmp_path / path.relative_to(build.REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        moved[target] = content
    monkeypatch.setattr(build, "REPO", tmp_path)
    monkeypatch.setattr(build, "DOCS_EVENTS", docs)
    monkeypatch.setattr(build, "REGISTRY_DIR", registry)
    monkeypatch.setattr(build, "CODES_DIR", docs / "codes")
    monkeypatch.setattr(build, "CONSUMER_DIR", tmp_path / "schemas" / "consumer")
    monkeypatch.setattr(build, "render_all", lambda: moved)
    for name in build.HAND_WRITTEN:
        (docs / name).write_text((REPO / "docs" / "events" / name).read_text())
    (tmp_path / "docs" / "asyncapi.yaml").touch()
    for linked in ("schemas/events", "schemas/released"):  # link targets the generator does not write
        (tmp_path / linked).symlink_to(REPO / linked)
    assert build.main(["--check"]) == 0, capsys.readouterr().err
    (docs / "order.cancelled.md").write_text("edited by hand\n")
    (registry / "refund.failed.v1.json").unlink()
    (docs / "order.shipped.md").write_text("left over\n")
    (docs / "codes" / "card_declined.md").unlink()
    (docs / "delivery.md").unlink()
    assert build.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "make docs" in err
    assert "stale:   docs/events/order.cancelled.md" in err
    assert "missing: schemas/registry/refund.failed.v1.json" in err
    assert "orphan:  docs/events/order.shipped.md" in err
    assert "missing: docs/events/delivery.md (written by hand)" in err
    assert "broken link: docs/events/payment.failed.md -> codes/card_declined.md" in err


def test_index_opens_with_a_flowchart_of_every_event() -> None:
    index = (REPO / "docs" / "events" / "index.md").read_text()
    first_block = index.split("```")[1]
    assert first_block.startswith("mermaid\nflowchart")
    assert index.index("```mermaid") < index.index("|")
    for detail_type in EXPECTED_EVENTS:
        assert f'"{detail_type}"' in first_block
        assert f"]({detail_type}.md)" in index


@pytest.mark.parametrize("detail_type", sorted(EXPECTED_EVENTS))
def test_event_page_has_purpose_producer_fields_example_and_version(detail_type: str) -> None:
    page = (REPO / "docs" / "events" / f"{detail_type}.md").read_text()
    schema = load(max((REPO / "schemas" / "events" / detail_type).glob("v*.json")))
    assert schema["description"] in page
    assert schema["x-novamart"]["producer"] in page
    for consumer in schema["x-novamart"]["consumers"]:
        assert consumer in page
    assert "| field | type | required |" in page
    for field in schema["properties"]["detail"]["properties"]["data"]["properties"]:
        assert f"`data.{field}`" in page
    assert "## Example" in page and '"detail-type": "' + detail_type + '"' in page
    assert f"`{schema['x-novamart']['version']}`" in page


def test_asyncapi_document_describes_every_channel() -> None:
    doc = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    assert doc["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == set(EXPECTED_EVENTS)
    actions = {}
    for operation in doc["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[1]
        actions[doc["channels"][channel]["address"]] = operation["action"]
    expected = {dt: "receive" if d == "consumed" else "send" for dt, (_, d) in EXPECTED_EVENTS.items()}
    assert actions == expected
    schemas = doc["components"]["schemas"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(schemas[node["$ref"].removeprefix("#/components/schemas/")])
            return {k: inline(v) for k, v in node.items()}
        return [inline(v) for v in node] if isinstance(node, list) else node

    for message in doc["components"]["messages"].values():
        schema = inline(message["payload"])
        Draft7Validator.check_schema(schema)
        assert message["examples"]
        for example in message["examples"]:
            Draft7Validator(schema).validate(example["payload"])
        assert message["correlationId"] == {"$ref": "#/components/correlationIds/correlationId"}
    assert all(name[0].isupper() for name in schemas), "component schemas carry generator-friendly names"
