"""DynamoDB access for payments and refunds: the adapter of the repository port (``ports.PaymentRepository``).

One object offers every method of the port; its halves live beside it (``payment_table``, ``refund_table``, over
``dynamo_tables``' conditional writes and ``dynamo_items``' item mapping).
"""

from __future__ import annotations

from novamart_payments.domain import PaymentRecord, RefundRecord
from novamart_payments.dynamo_items import UNFINISHED_INDEX, payment_from_item, refund_from_item, refund_to_item
from novamart_payments.payment_table import PaymentTable
from novamart_payments.ports import Lease, WriteResult
from novamart_payments.refund_table import RefundTable

__all__ = [
    "UNFINISHED_INDEX",
    "Lease",
    "Repository",
    "WriteResult",
    "payment_from_item",
    "refund_from_item",
    "refund_to_item",
]


class Repository(PaymentTable, RefundTable):
    def get_payment_and_refund(
        self, payment_id: str, refund_id: str
    ) -> tuple[PaymentRecord | None, RefundRecord | None]:
        """Both records a refund decision needs, in one round trip."""
        out = self.client.batch_get_item(
            RequestItems={
                self._payments: {"Keys": [{"paymentId": {"S": payment_id}}], "ConsistentRead": True},
                self._refunds: {"Keys": [{"refundId": {"S": refund_id}}], "ConsistentRead": True},
            }
        )
        if out.get("UnprocessedKeys"):
            # Throttled under load: fall back to single reads rather than decide on a partial view.
            return self.get_payment(payment_id), self.get_refund(refund_id)
        payments = out["Responses"].get(self._payments, [])
        refunds = out["Responses"].get(self._refunds, [])
        return (
            payment_from_item(payments[0]) if payments else None,
            refund_from_item(refunds[0]) if refunds else None,
        )
