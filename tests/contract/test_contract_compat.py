"""Released schema versions may not change in ways that break the other side of the contract."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from contract_compat import Direction, breaking_changes
from contract_support import EXPECTED_EVENTS, SCHEMAS, load

from tools.docgen import schemas, versions
from tools.pacts import pacts_relying_on

RELEASED = SCHEMAS / "released"
EVENT_FILES = sorted(SCHEMAS.glob("events/*/v*.json"))


def _direction(path: Path) -> Direction:
    direction = load(path)["x-novamart"]["direction"]
    assert direction in ("consumed", "published")
    return direction  # type: ignore[no-any-return]


def _snapshots_of_major(path: Path) -> list[Path]:
    major = int(path.stem[1:])
    return [p for version, p in versions.released_versions(path.parent.name) if version[0] == major]


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_current_schema_is_compatible_with_every_released_version_of_its_major(path: Path) -> None:
    snapshots = _snapshots_of_major(path)
    major = int(path.stem[1:])
    assert snapshots, f"{path} has no released snapshot: run tools/gen_docs.py --release"
    for snapshot in snapshots:
        breaks = breaking_changes(load(snapshot), schemas.dereference(path), _direction(path))
        relied_on = sorted({str(u) for b in breaks for u in pacts_relying_on(path.parent.name, major, b.where)})
        assert not breaks, (
            f"{path.relative_to(SCHEMAS.parent)} breaks released {snapshot.name}: "
            + "; ".join(map(str, breaks))
            + (f". It breaks {'; '.join(relied_on)}" if relied_on else "")
            + ". Ship the change as a new major version (schemas/events/<detail-type>/v<N+1>.json)."
        )


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_changed_schema_carries_a_version_not_released_yet(path: Path) -> None:
    # A structural change under an already released version number would give two contracts one name.
    version = versions.parse_version(schemas.load_json(path)["x-novamart"]["version"])
    assert version[0] == int(path.stem[1:]), f"{path}: x-novamart.version's major must match the file"
    released = dict(versions.released_versions(path.parent.name))
    newest = max(v for v in released if v[0] == version[0])
    changes = versions.describe_changes(load(released[newest]), schemas.dereference(path))
    if changes:
        assert version not in released, f"{path} changed ({changes}) but still says released {version}"
    else:
        assert version == newest, f"{path} says {version}; the newest release of its major is {newest}"


def test_released_snapshots_are_untouched() -> None:
    sums = versions.released_sums()
    snapshots = sorted(p.relative_to(RELEASED).as_posix() for p in RELEASED.glob("*/v*.json"))
    assert sorted(sums) == snapshots
    for name, digest in sums.items():
        assert hashlib.sha256((RELEASED / name).read_bytes()).hexdigest() == digest, f"{name} was edited"


def test_every_released_version_still_has_a_schema() -> None:
    for snapshot in RELEASED.glob("*/v*.json"):
        major = versions.parse_version(snapshot.stem[1:])[0]
        assert (SCHEMAS / "events" / snapshot.parent.name / f"v{major}.json").exists(), snapshot


# --- the checker itself, against deliberately broken variants of real schemas ------------------


def _current(detail_type: str) -> dict[str, Any]:
    return schemas.dereference(SCHEMAS / "events" / detail_type / "v1.json")


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["detail"]["properties"]["data"]  # type: ignore[no-any-return]


def remove_field(s: dict[str, Any]) -> None:
    del _data(s)["properties"]["transactionId"]
    _data(s)["required"].remove("transactionId")


def rename_field(s: dict[str, Any]) -> None:
    data = _data(s)
    data["properties"]["gatewayTransactionId"] = data["properties"].pop("transactionId")
    data["required"] = ["gatewayTransactionId" if r == "transactionId" else r for r in data["required"]]


def narrow_type(s: dict[str, Any]) -> None:
    _data(s)["properties"]["amount"]["properties"]["minorUnits"]["type"] = "string"


def new_required_field(s: dict[str, Any]) -> None:
    _data(s)["properties"]["merchantId"] = {"type": "string", "maxLength": 64}
    _data(s)["required"].append("merchantId")


def require_existing_optional(s: dict[str, Any]) -> None:
    s["properties"]["detail"]["properties"]["metadata"]["required"].append("requestId")


def tighten_enum(s: dict[str, Any]) -> None:
    _data(s)["properties"]["amount"]["properties"]["currency"]["enum"].remove("KWD")


def tighten_max_length(s: dict[str, Any]) -> None:
    _data(s)["properties"]["orderId"]["maxLength"] = 32


def lower_ceiling(s: dict[str, Any]) -> None:
    _data(s)["properties"]["amount"]["properties"]["minorUnits"]["maximum"] = 9999999


def change_pattern(s: dict[str, Any]) -> None:
    _data(s)["properties"]["orderId"]["pattern"] = "^ord-[0-9]+$"


def change_const(s: dict[str, Any]) -> None:
    _data(s)["properties"]["status"]["const"] = "CAPTURED"


def change_source(s: dict[str, Any]) -> None:
    s["properties"]["source"]["const"] = "novamart.billing"


BREAKING: list[Callable[[dict[str, Any]], None]] = [
    remove_field,
    rename_field,
    narrow_type,
    change_pattern,
    change_const,
    change_source,
]


@pytest.mark.parametrize("mutate", BREAKING, ids=lambda f: f.__name__)
@pytest.mark.parametrize("direction", ["published", "consumed"])
def test_checker_flags_breaking_change(mutate: Callable[[dict[str, Any]], None], direction: Direction) -> None:
    released = _current("payment.succeeded")
    changed = copy.deepcopy(released)
    mutate(changed)
    assert breaking_changes(released, changed, direction), f"{mutate.__name__} was not detected"


def add_pattern(s: dict[str, Any]) -> None:
    _data(s)["properties"]["transactionId"]["pattern"] = "^ch_[A-Za-z0-9_]+$"


NARROWING: list[Callable[[dict[str, Any]], None]] = [
    new_required_field,
    require_existing_optional,
    tighten_enum,
    tighten_max_length,
    lower_ceiling,
    add_pattern,
]


def widen_max_length(s: dict[str, Any]) -> None:
    _data(s)["properties"]["reason"]["maxLength"] = 1000


def widen_enum(s: dict[str, Any]) -> None:
    _data(s)["properties"]["amount"]["properties"]["currency"]["enum"].append("SEK")


def make_required_optional(s: dict[str, Any]) -> None:
    _data(s)["required"].remove("reason")


def open_object(s: dict[str, Any]) -> None:
    _data(s)["additionalProperties"] = True


WIDENING: list[Callable[[dict[str, Any]], None]] = [widen_max_length, widen_enum, make_required_optional, open_object]


ONE_SIDED: list[tuple[Callable[[dict[str, Any]], None], str, Direction, Direction]] = [
    *[(m, "payment.succeeded", "consumed", "published") for m in NARROWING],
    *[(m, "order.cancelled", "published", "consumed") for m in WIDENING],
]


@pytest.mark.parametrize(
    ("mutate", "detail_type", "breaks", "safe"), ONE_SIDED, ids=lambda v: getattr(v, "__name__", "")
)
def test_narrowing_breaks_consumed_events_and_widening_published_ones(
    mutate: Callable[[dict[str, Any]], None], detail_type: str, breaks: Direction, safe: Direction
) -> None:
    # A published event that promises less (a closed code enum where a free string was) still validates
    # against every released consumer schema; a consumed event that accepts less rejects what producers send.
    released = _current(detail_type)
    changed = copy.deepcopy(released)
    mutate(changed)
    assert breaking_changes(released, changed, breaks), f"{mutate.__name__} not flagged for {breaks} events"
    assert not breaking_changes(released, changed, safe), f"{mutate.__name__} wrongly flagged for {safe} events"


def add_optional_field(s: dict[str, Any]) -> None:
    _data(s)["properties"]["note"] = {"type": "string", "maxLength": 200}


def reword_description(s: dict[str, Any]) -> None:
    _data(s)["properties"]["orderId"]["description"] = "Reworded."
    s["title"] = "New title"


@pytest.mark.parametrize("mutate", [add_optional_field, reword_description], ids=lambda f: f.__name__)
@pytest.mark.parametrize("detail_type", sorted(EXPECTED_EVENTS))
def test_additive_and_documentation_changes_are_allowed(
    mutate: Callable[[dict[str, Any]], None], detail_type: str
) -> None:
    released = _current(detail_type)
    changed = copy.deepcopy(released)
    mutate(changed)
    direction: Direction = "published" if EXPECTED_EVENTS[detail_type][1] == "published" else "consumed"
    assert breaking_changes(released, changed, direction) == []


def test_shared_definition_change_reaches_every_event() -> None:
    # Snapshots are dereferenced, so loosening common/metadata.json shows up as a break in each
    # event that uses it, not only in the shared file.
    released = _current("refund.failed")
    changed = copy.deepcopy(released)
    changed["properties"]["detail"]["properties"]["metadata"]["properties"]["correlationId"]["maxLength"] = 256
    breaks = breaking_changes(released, changed, "published")
    assert [b.where for b in breaks] == ["/properties/detail/properties/metadata/properties/correlationId"]


# --- forward compatibility of the consumer form ----------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def _validator(schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_a_minor_version_with_new_optional_fields_validates_against_the_released_consumer_schema() -> None:
    # A 1.1 event with optional fields 1.0 did not have, at three depths (metadata, data, data.amount).
    event = load(FIXTURES / "payment.succeeded.v1.1-additive.json")
    released = load(RELEASED / "payment.succeeded" / "v1.json")
    assert not list(_validator(schemas.open_objects(released)).iter_errors(event))
    # The producer's closed form rejects it, which is why consumers must not validate with that one.
    rejected = {e.validator for e in _validator(released).iter_errors(event)}
    assert rejected == {"additionalProperties"}


def test_the_committed_consumer_schema_is_the_open_form_of_the_producer_schema() -> None:
    for path in EVENT_FILES:
        consumer = load(SCHEMAS / "consumer" / path.parent.name / path.name)
        assert "additionalProperties" not in json.dumps(consumer)
        assert schemas.open_objects(schemas.dereference(path)).items() <= consumer.items()
