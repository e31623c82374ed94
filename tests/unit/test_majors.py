"""Majors side by side: the table of majors in force, the publisher's editions, the metric per major, the
EVENT_MAJORS check and Terraform's copy of the table (docs/events/versioning.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
from novamart_payments import events, majors, publisher
from novamart_payments.config import Config, ConfigError
from novamart_payments.contracts import ContractViolation
from novamart_payments.domain import Money, RefundRecord, Status
from novamart_payments.majors import PUBLISHED_MAJORS, MajorsError, terraform_table, windows_from_env

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
LAST_DAY = date(2027, 6, 30)  # refund.failed 1.x


class Bus:
    """An EventBridge client that records each PutEvents call."""

    def __init__(self, failed: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.failed = failed

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        entries = [{"EventId": str(i)} for i in range(len(Entries))]
        for entry in entries[: self.failed]:
            entry.update(ErrorCode="InternalFailure", ErrorMessage="boom")
        return {"FailedEntryCount": self.failed, "Entries": entries}


def refused_refund() -> dict[str, Any]:
    record = RefundRecord(
        "3f1f0c1e-5b7a-5c4e-9a54-2f3b7d1e9a10",
        "ord-20261202-1",
        Status.FAILED,
        Money(1500, "EUR"),
        payment_id="9b2c7d8e-1a3f-5e6d-8c7b-6a5f4e3d2c1b",
        customer_id="cus-1",
        reason="customer cancelled",
        failure_code="exceeds_refundable",
        failure_reason="requested 1500 exceeds the refundable 1000",
        correlation_id="corr-1",
        causation_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        updated_at="2026-12-02T10:00:00.000Z",
        processed_at="2026-12-02T10:00:00.000Z",
    )
    return events.refund_outcome(record)


def consumer_schema(detail_type: str, major: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / "consumer" / detail_type / f"v{major}.json").read_text())
    return loaded


def sent(bus: Bus) -> list[dict[str, Any]]:
    [entries] = bus.calls
    return [{"source": e["Source"], "detail-type": e["DetailType"], "detail": json.loads(e["Detail"])} for e in entries]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(publisher, "published", lambda dt, version: seen.append((dt, version)))
    return seen


@pytest.mark.parametrize("today", [date(2026, 12, 2), LAST_DAY], ids=["in-window", "last-day"])
def test_in_the_window_each_major_goes_out_once_with_one_event_id(today: date, counted: list[tuple[str, str]]) -> None:
    bus = Bus()
    publisher.Publisher("bus", client=bus, today=lambda: today).publish(refused_refund())  # type: ignore[arg-type]
    events = sent(bus)
    assert [e["detail"]["metadata"]["schemaVersion"] for e in events] == ["2.0", "1.0"], "one PutEvents, both majors"
    assert len({e["detail"]["metadata"]["eventId"] for e in events}) == 1, "one fact: one eventId in every major"
    for event in events:
        major = event["detail"]["metadata"]["schemaVersion"].split(".")[0]
        jsonschema.validate(event, consumer_schema("refund.failed", major))
    v2, v1 = (e["detail"]["data"] for e in events)
    assert v1["reason"] == v2["failureReason"] and "refundReason" not in v1 and "failureReason" not in v1
    assert counted == [("refund.failed", "2.0"), ("refund.failed", "1.0")], "a metric per major"


def test_after_the_window_only_the_new_major_goes_out(counted: list[tuple[str, str]]) -> None:
    bus = Bus()
    after = date.fromordinal(LAST_DAY.toordinal() + 1)
    publisher.Publisher("bus", client=bus, today=lambda: after).publish(refused_refund())  # type: ignore[arg-type]
    assert [e["detail"]["metadata"]["schemaVersion"] for e in sent(bus)] == ["2.0"]
    assert counted == [("refund.failed", "2.0")]


def test_a_window_ended_early_by_event_majors_is_honoured() -> None:
    bus = Bus()
    windows = windows_from_env(json.dumps({**terraform_table(), "refund.failed": {"current": 2, "deprecated": {}}}))
    publisher.Publisher("bus", client=bus, windows=windows).publish(refused_refund())  # type: ignore[arg-type]
    assert [e["detail"]["metadata"]["schemaVersion"] for e in sent(bus)] == ["2.0"]


def test_an_invalid_edition_of_any_major_stops_every_edition(
    monkeypatch: pytest.MonkeyPatch, counted: list[tuple[str, str]]
) -> None:
    old = PUBLISHED_MAJORS["refund.failed"].older[0]
    broken = majors.OlderMajor(old.version, old.last_day, lambda data: {**old.downgrade(data), "refundReason": "x"})
    monkeypatch.setitem(
        PUBLISHED_MAJORS,  # type: ignore[arg-type]
        "refund.failed",
        majors.EventMajors(PUBLISHED_MAJORS["refund.failed"].current, (broken,)),
    )
    bus = Bus()
    with pytest.raises(ContractViolation) as caught:
        publisher.Publisher("bus", client=bus, today=lambda: date(2026, 12, 2)).publish(refused_refund())  # type: ignore[arg-type]
    assert "/detail/data/refundReason" in caught.value.pointers
    assert bus.calls == [] and counted == [], "nothing leaves, not even the valid major"


def test_a_refused_entry_fails_the_publish_and_counts_nothing(counted: list[tuple[str, str]]) -> None:
    bus = Bus(failed=1)
    with pytest.raises(publisher.PublishError, match="InternalFailure"):
        publisher.Publisher("bus", client=bus, today=lambda: date(2026, 12, 2)).publish(refused_refund())  # type: ignore[arg-type]
    assert counted == []


def test_events_of_a_single_major_go_out_once() -> None:
    record = RefundRecord("r-1", "ord-1", Status.SUCCEEDED, Money(100, "USD"), payment_id="p", customer_id="c")
    event = events.refund_outcome(record)
    assert publisher.Publisher("bus").editions(event) == [event]


def test_every_published_event_has_a_row_and_every_version_a_schema() -> None:
    published = {
        path.parent.name
        for path in (SCHEMAS / "events").glob("*/v1.json")
        if json.loads(path.read_text())["x-novamart"]["direction"] == "published"
    }
    assert set(PUBLISHED_MAJORS) == published
    for detail_type, row in PUBLISHED_MAJORS.items():
        current = json.loads((SCHEMAS / "events" / detail_type / f"v{row.current_major}.json").read_text())
        assert current["x-novamart"]["version"] == row.current, f"{detail_type}: build to the schema's version"
        for old in row.older:
            assert old.major < row.current_major
            released = SCHEMAS / "released" / detail_type / f"v{old.version.removesuffix('.0')}.json"
            assert released.is_file(), f"{detail_type} {old.version} must be a released snapshot"


def test_terraform_default_is_the_code_table() -> None:
    with (REPO / "terraform" / "modules" / "service" / "variables.tf").open(encoding="utf-8") as fh:
        variables = {unquote(name): body for block in hcl2.load(fh)["variable"] for name, body in block.items()}
    default = variables["event_majors"]["default"]
    normalised = {
        unquote(dt): {
            "current": int(v["current"]),
            "deprecated": {unquote(k): unquote(d) for k, d in (v.get("deprecated") or {}).items()},
        }
        for dt, v in default.items()
    }
    assert normalised == terraform_table()


def unquote(text: str) -> str:
    """python-hcl2 keeps the quotes of quoted keys and strings."""
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"refund.failed": {"current": 2, "deprecated": {"1": "2027-07-01"}}}, "later than the documented"),
        ({"refund.failed": {"current": 2, "deprecated": {"3": "2027-01-01"}}}, "not one the code publishes"),
        ({"refund.failed": {"current": 1}}, "current must be 2"),
        ({"refund.failed": {"current": 2, "deprecated": {"1": "soon"}}}, "not a YYYY-MM-DD"),
    ],
)
def test_event_majors_may_only_end_a_window_earlier(change: dict[str, Any], message: str) -> None:
    raw = json.dumps({**terraform_table(), **change})
    with pytest.raises(MajorsError, match=message):
        windows_from_env(raw)
    env = {"PAYMENT_TABLE_NAME": "payments", "REFUND_TABLE_NAME": "refunds", "AWS_REGION": "us-east-2"}
    with pytest.raises(ConfigError, match=message):
        Config.from_env({**env, "EVENT_MAJORS": raw})


def test_event_majors_accepts_the_table_and_an_earlier_end() -> None:
    assert windows_from_env(json.dumps(terraform_table())) == majors.code_windows()
    earlier = {**terraform_table(), "refund.failed": {"current": 2, "deprecated": {"1": "2027-01-31"}}}
    assert windows_from_env(json.dumps(earlier))["refund.failed"] == {1: date(2027, 1, 31)}
    with pytest.raises(MajorsError, match="exactly the published events"):
        windows_from_env(json.dumps({"refund.failed": {"current": 2}}))


def test_readers_count_each_fact_once() -> None:
    bus = Bus()
    publisher.Publisher("bus", client=bus, today=lambda: date(2026, 12, 2)).publish(refused_refund())  # type: ignore[arg-type]
    assert [majors.is_current_edition(e) for e in sent(bus)] == [True, False]


def test_each_major_has_a_metric_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    from novamart_payments import observability

    observability.flush()  # what earlier tests counted
    capsys.readouterr()
    observability.published("refund.failed", "1.0")
    observability.published("refund.failed", "2.0")
    assert {"EventPublished.refund.failed.v1", "EventPublished.refund.failed.v2"} <= set(
        observability.metrics.metric_set
    )
    observability.flush()
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "EventPublished" in x]
    assert line["EventPublished.refund.failed.v1"] in ([1.0], 1.0)
