"""The reliability suite's AWS, seen from its tests: its tables (``rel-`` names, beside the other suites' in the
session's one moto server), raw clients and everything published so far.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from novamart_payments.majors import is_current_edition

from tests.support.service_aws import drain_audit_queue

PAYMENTS, REFUNDS, BUS = "rel-payments", "rel-refunds", "default"


@dataclass
class RelAws:
    """The emulator seen from the tests: raw clients and everything published so far."""

    endpoint: str
    dynamodb: Any
    sqs: Any
    audit_queue_url: str
    published: list[dict[str, Any]] = field(default_factory=list)
    all_editions: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drain(self) -> list[dict[str, Any]]:
        """Move every event waiting on the audit queue into ``published``; returns ``published``: each outcome once,
        in its current major (``all_editions`` keeps the older majors' editions too)."""
        with self._lock:
            for event in drain_audit_queue(self.sqs, self.audit_queue_url):
                self.all_editions.append(event)
                if is_current_edition(event):
                    self.published.append(event)
            return self.published

    def get_items(self, payment_ids: list[str], refund_ids: list[str]) -> tuple[list[Any], list[Any]]:
        """Strongly consistent BatchGetItem over both tables (one call for the invariants)."""
        request: dict[str, Any] = {}
        if payment_ids:
            request[PAYMENTS] = {"Keys": [{"paymentId": {"S": i}} for i in payment_ids], "ConsistentRead": True}
        if refund_ids:
            request[REFUNDS] = {"Keys": [{"refundId": {"S": i}} for i in refund_ids], "ConsistentRead": True}
        found: dict[str, list[Any]] = {PAYMENTS: [], REFUNDS: []}
        while request:
            out = self.dynamodb.batch_get_item(RequestItems=request)
            for table, items in out["Responses"].items():
                found[table].extend(items)
            request = out.get("UnprocessedKeys") or {}
        return found[PAYMENTS], found[REFUNDS]

    def scan_all(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            out = self.dynamodb.scan(**kwargs)
            items.extend(out["Items"])
            if "LastEvaluatedKey" not in out:
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
