"""The publisher port in memory: checks every event as the EventBridge adapter does, then keeps it.

Like the adapter, an event is published once per major in force (``majors.editions``), and every edition is
checked against its schema before any is kept, so a decision that builds a broken event fails here as it would in
production. ``fail_next`` makes the next publishes raise ``PublishError`` (EventBridge refusing the entries), after
the check, for the retry paths: nothing is kept from a failed publish.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tests.support.ports_under_test import PublishError, editions, validate_event


def _today() -> date:
    return datetime.now(UTC).date()


class MemoryPublisher:
    def __init__(self, today: Callable[[], date] = _today) -> None:
        self._today = today
        self._lock = threading.Lock()
        self._failures = 0
        #: Every fact published, as the service built it (its current major), in order.
        self.events: list[dict[str, Any]] = []
        #: What went out on the bus: each fact once per major in force.
        self.editions: list[dict[str, Any]] = []

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` publishes are refused after their check (PutEvents' FailedEntryCount)."""
        with self._lock:
            self._failures += times

    def publish(self, event: dict[str, Any]) -> None:
        outgoing = self._editions(event)
        for edition in outgoing:
            validate_event(edition)  # nothing leaves that breaks its contract
        with self._lock:
            if self._failures:
                self._failures -= 1
                raise PublishError(f"PutEvents refused {event['detail-type']} (simulated)")
            self.events.append(copy.deepcopy(event))
            self.editions.extend(copy.deepcopy(outgoing))

    def _editions(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        detail_type, detail = str(event["detail-type"]), event["detail"]
        found = editions(detail_type, detail["data"], self._today())
        if detail["metadata"].get("schemaVersion") != found[0][0]:
            return [event]  # built to an older major (a replay tool's): goes out as it is
        return [
            {**event, "detail": {"metadata": {**detail["metadata"], "schemaVersion": version}, "data": data}}
            for version, data in found
        ]

    def of(self, order_id: str) -> list[dict[str, Any]]:
        """The facts published about one order, in order."""
        with self._lock:
            return [e for e in self.events if e["detail"]["data"].get("orderId") == order_id]

    def types(self, order_id: str) -> list[str]:
        """The detail-types published about one order, in order (``payment.succeeded``, ...)."""
        return [e["detail-type"] for e in self.of(order_id)]
