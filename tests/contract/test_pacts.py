"""Consumer-driven contracts: the consumers' pacts hold against the real publisher, and a schema change names the
pact it breaks (tools/pacts.py, contracts/, docs/events/pacts.md)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from contract_compat import breaking_changes
from contract_support import SCHEMAS, load
from novamart_payments import events

from tools import pacts
from tools.docgen import schemas

CONSUMERS_OF_US = {"orders-service", "notifications-service"}


def test_committed_pacts_are_what_the_consumer_tests_write() -> None:
    assert pacts.check_pacts() == [], "run `make pacts` and commit contracts/pacts/"


def test_every_consumer_pact_holds_against_the_real_publisher() -> None:
    files = pacts.provider_pacts()
    assert {json.loads(p.read_text())["consumer"]["name"] for p in files} >= CONSUMERS_OF_US
    passed, report = pacts.verify_provider(files)
    assert passed, report
    assert report.count("has a matching body (OK)") == sum(
        len(json.loads(p.read_text())["interactions"]) for p in files
    )


def test_a_field_a_pact_reads_dropped_by_the_publisher_turns_verification_red(monkeypatch: pytest.MonkeyPatch) -> None:
    real = events.refund_outcome

    def without_customer(record: Any) -> dict[str, Any]:
        event = real(record)
        event["detail"]["data"].pop("customerId", None)  # optional in the schema: only the pact notices
        return event

    monkeypatch.setattr(events, "refund_outcome", without_customer)
    passed, report = pacts.verify_provider()
    assert not passed
    assert "notifications-service" in report and "customerId" in report, report


def test_a_message_of_a_major_no_longer_published_fails_verification() -> None:
    pact = {"providerStates": [{"name": "a refund above the remainder was refused", "params": {"major": 7}}]}
    with pytest.raises(LookupError, match="major 7 is not published"):
        pacts.produce("refund.failed 7.x", pact)


def _data_properties(schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema["properties"]["detail"]["properties"]["data"]["properties"]
    return props


def test_the_compatibility_checker_names_the_pact_a_removal_breaks() -> None:
    released = load(SCHEMAS / "released" / "refund.failed" / "v2.json")
    proposed = copy.deepcopy(schemas.dereference(SCHEMAS / "events" / "refund.failed" / "v2.json"))
    del _data_properties(proposed)["failureReason"]
    proposed["properties"]["detail"]["properties"]["data"]["required"].remove("failureReason")
    breaks = breaking_changes(released, proposed, "published")
    assert breaks
    named = {str(use) for b in breaks for use in pacts.pacts_relying_on("refund.failed", 2, b.where)}
    assert any("notifications-service" in n and "detail.data.failureReason" in n for n in named), named


def test_the_checker_names_no_pact_for_a_field_nobody_reads() -> None:
    assert (
        pacts.pacts_relying_on("refund.failed", 2, "/properties/detail/properties/data/properties/refundReason") == []
    )
    assert pacts.pacts_relying_on("refund.failed", 1, "/properties/detail/properties/data/properties/reason") == []


def test_a_narrowed_consumed_event_names_our_own_pact_with_its_producer() -> None:
    released = load(SCHEMAS / "released" / "order.cancelled" / "v1.json")
    proposed = copy.deepcopy(schemas.dereference(SCHEMAS / "events" / "order.cancelled" / "v1.json"))
    _data_properties(proposed)["reason"]["maxLength"] = 10  # narrowing: the orders service may send longer ones
    breaks = breaking_changes(released, proposed, "consumed")
    assert breaks
    named = {str(use) for b in breaks for use in pacts.pacts_relying_on("order.cancelled", 1, b.where)}
    reads = "('order.cancelled 1.x: refund the order' reads detail.data.reason)"
    assert named == {f"novamart-payments's pact with orders-service {reads}"}


def test_a_narrowed_field_names_the_pacts_that_read_it() -> None:
    pointer = "/properties/detail/properties/data/properties/amount/properties/currency/enum"
    assert pacts.instance_path(pointer) == ("detail", "data", "amount", "currency")
    assert pacts.instance_path("/properties/detail/properties/data/required/code") == ("detail", "data", "code")
    readers = {use.consumer for use in pacts.pacts_relying_on("payment.succeeded", 1, pointer)}
    assert readers == {"orders-service"}
