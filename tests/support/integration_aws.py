"""The integration suite's AWS, seen from its tests: its tables (``it-`` names, beside the other suites' in the
session's one moto server), the items it holds per order, and every event published so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from novamart_payments.majors import is_current_edition

from tests.support.service_aws import drain_audit_queue

PAYMENTS, REFUNDS, BUS = "it-payments", "it-refunds", "default"
WEBHOOK_EVENTS = "it-webhook-events"


@dataclass
class Aws:
    """The emulator seen from the integration tests: raw clients and the audit queue published events reach."""

    endpoint: str
    dynamodb: Any
    sqs: Any
    audit_queue_url: str

    def published(self, order_id: str, *, all_majors: bool = False) -> list[dict[str, Any]]:
        """Drain the audit queue and return every published event seen so far for this order: each outcome once, in
        its current major, unless ``all_majors`` (then also the older majors' editions in their window)."""
        _SEEN.extend(drain_audit_queue(self.sqs, self.audit_queue_url))
        return [
            e for e in _SEEN if e["detail"]["data"]["orderId"] == order_id and (all_majors or is_current_edition(e))
        ]

    def payment_items(self, order_id: str) -> list[dict[str, Any]]:
        return _scan(self.dynamodb, PAYMENTS, order_id)

    def refund_items(self, order_id: str) -> list[dict[str, Any]]:
        return _scan(self.dynamodb, REFUNDS, order_id)


_SEEN: list[dict[str, Any]] = []


def _scan(client: Any, table: str, order_id: str) -> list[dict[str, Any]]:
    out = client.scan(
        TableName=table,
        FilterExpression="orderId = :o",
        ExpressionAttributeValues={":o": {"S": order_id}},
        ConsistentRead=True,
    )
    return list(out["Items"])
