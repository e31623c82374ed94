"""The EventBridge adapter of the event publisher port: puts outcome events (built by ``events.py``) on the bus.

Each event is checked against its published schema before it leaves: a contract break is caught here, not by
the consuming teams.

The builders build the current major of each event; ``Publisher.publish`` sends it once per major in force
(majors.py: an older major lives on for its deprecation window), every edition with the same ``eventId``, all
checked before any leaves and sent in one PutEvents call, and counts each in the metric
``EventPublished.<detail-type>.v<major>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from novamart_payments import clients
from novamart_payments.contracts import validate_event
from novamart_payments.events import SCHEMA_VERSIONS
from novamart_payments.majors import Windows, editions
from novamart_payments.telemetry import published

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class PublishError(RuntimeError):
    """EventBridge did not accept the event; the trigger is retried so the outcome is not lost."""


def _utc_today() -> date:
    return datetime.now(UTC).date()


class Publisher:
    """Puts outcome events on the bus, once per major in force (``windows``: None is majors.py's own table)."""

    def __init__(
        self,
        bus_name: str,
        client: EventBridgeClient | None = None,
        *,
        windows: Windows | None = None,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self._bus = bus_name
        self._client = client
        self._windows = windows
        self._today = today

    def editions(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The event as it goes out: once per major in force, the same ``eventId`` in each.

        An event built to an older major (a replay tool's) goes out as it is.
        """
        detail_type = str(event.get("detail-type"))
        detail = event["detail"]
        if detail["metadata"].get("schemaVersion") != SCHEMA_VERSIONS.get(detail_type):
            return [dict(event)]
        out = []
        for version, data in editions(detail_type, detail["data"], self._today(), self._windows):
            metadata = {**detail["metadata"], "schemaVersion": version}
            out.append({**event, "detail": {"metadata": metadata, "data": data}})
        return out

    @staticmethod
    def _check(event: Mapping[str, Any]) -> None:
        """An event that breaks its contract never leaves (tools/mutants.py removes this check)."""
        validate_event(event)

    def publish(self, event: dict[str, Any]) -> None:
        # Every edition is checked before any leaves: one fact goes out in all its majors or in none.
        outgoing = self.editions(event)
        for edition in outgoing:
            self._check(edition)
        client = self._client if self._client is not None else clients.events()
        response = client.put_events(
            Entries=[
                {
                    "Source": edition["source"],
                    "DetailType": edition["detail-type"],
                    "Detail": json.dumps(edition["detail"], separators=(",", ":")),
                    "EventBusName": self._bus,
                }
                for edition in outgoing
            ]
        )
        # PutEvents answers 200 even when an entry was refused; the per-entry error is the real result. The retry
        # republishes every edition (same eventId): consumers deduplicate, as for any redelivery.
        if response.get("FailedEntryCount", 0):
            failed = [e for e in response["Entries"] if e.get("ErrorCode")] or response["Entries"]
            entry = failed[0]
            raise PublishError(
                f"PutEvents refused {event['detail-type']} "
                f"{event['detail']['metadata']['eventId']}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
        for edition in outgoing:
            published(edition["detail-type"], edition["detail"]["metadata"]["schemaVersion"])
