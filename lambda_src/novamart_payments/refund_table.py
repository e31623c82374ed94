"""The refunds table: the DynamoDB adapter's half of the repository port for refunds (a refund's reservation and
failure also move the payment's refunded total, in one transaction)."""

from __future__ import annotations

from dataclasses import replace

from novamart_payments.domain import PaymentRecord, RefundRecord, Status
from novamart_payments.dynamo_items import Item, refund_from_item, refund_to_item
from novamart_payments.dynamo_tables import DynamoTables
from novamart_payments.ports import Lease, WriteResult


class RefundTable(DynamoTables):
    def get_refund(self, refund_id: str) -> RefundRecord | None:
        out = self.client.get_item(TableName=self._refunds, Key={"refundId": {"S": refund_id}}, ConsistentRead=True)
        item = out.get("Item")
        return refund_from_item(item) if item else None

    def reserve_refund(
        self, payment: PaymentRecord, refund: RefundRecord, now: str, lease_until: str, lease_owner: str
    ) -> bool:
        """Atomically add the refund to the payment's refunded total and create the PENDING refund.

        The condition ``refundedAmount <= captured - amount`` is what keeps the total refunded at or below the
        captured amount when refund triggers race; the refund item's own condition makes a redelivered trigger
        unable to reserve twice.
        """
        assert payment.amount is not None and refund.amount is not None
        limit = payment.amount.minor_units - refund.amount.minor_units
        return self._transact(
            [
                {
                    "Update": {
                        "TableName": self._payments,
                        "Key": {"paymentId": {"S": payment.payment_id}},
                        "UpdateExpression": "SET refundedAmount = refundedAmount + :amt, updatedAt = :now, "
                        "version = version + :one",
                        "ConditionExpression": "#s = :succeeded AND refundedAmount <= :limit",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":amt": {"N": str(refund.amount.minor_units)},
                            ":limit": {"N": str(limit)},
                            ":succeeded": {"S": Status.SUCCEEDED},
                            ":now": {"S": now},
                            ":one": {"N": "1"},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._refunds,
                        # The reserving delivery holds the refund's gateway lease: see take_refund_lease.
                        # Open in the sparse unfinished index until it is settled (reconciliation finds it there).
                        "Item": {
                            **refund_to_item(refund),
                            "leaseUntil": {"S": lease_until},
                            "leaseOwner": {"S": lease_owner},
                            "openStatus": {"S": Status.PENDING},
                            "openSince": {"S": now},
                        },
                        "ConditionExpression": "attribute_not_exists(refundId)",
                    }
                },
            ]
        )

    def take_refund_lease(self, refund_id: str, now: str, lease_until: str, lease_owner: str) -> Lease | None:
        """Let one delivery at a time talk to the gateway about a PENDING refund (None: another holds it).

        The gateway does not deduplicate refunds for us, so a delivery that resumes a PENDING refund must be the
        only one asking "did an earlier attempt get through?" and then refunding. The lease outlives any
        invocation (it is longer than the Lambda timeout), so an expired lease means its holder is gone. Its owner
        may take it again at once: the owner is the SQS message, and a redelivery of that message means its
        earlier delivery has ended (failed, or its answer was lost).

        Taking the lease also takes the refund's ``refundNotSent`` mark (``release_refund_lease``): the taker
        learns that no refund exists at the gateway and may refund without asking; from now on, until it says
        so again, an attempt may be under way."""
        out = self._update_if(
            TableName=self._refunds,
            Key={"refundId": {"S": refund_id}},
            UpdateExpression="SET leaseUntil = :until, leaseOwner = :me REMOVE refundNotSent",
            ConditionExpression="#s = :pending AND "
            "(attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :me)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":until": {"S": lease_until},
                ":me": {"S": lease_owner},
                ":now": {"S": now},
                ":pending": {"S": Status.PENDING},
            },
            ReturnValues="ALL_OLD",
        )
        if out is None:
            return None
        return Lease(nothing_sent=bool(out.get("Attributes", {}).get("refundNotSent", {}).get("BOOL")))

    def release_refund_lease(self, refund_id: str, lease_owner: str, *, nothing_sent: bool) -> bool:
        """Give the lease back at once, instead of letting the next delivery wait for it to run out, when this
        delivery knows no request of its own can still move money: its gateway request was refused before
        anything was done (``nothing_sent``: no refund exists at the gateway, so the next delivery refunds without
        asking first), or it only asked and did not refund. False when the lease was no longer this delivery's."""
        update = "REMOVE leaseUntil, leaseOwner"
        values: Item = {":me": {"S": lease_owner}, ":pending": {"S": Status.PENDING}}
        if nothing_sent:
            update += " SET refundNotSent = :true"
            values[":true"] = {"BOOL": True}
        return (
            self._update_if(
                TableName=self._refunds,
                Key={"refundId": {"S": refund_id}},
                UpdateExpression=update,
                ConditionExpression="#s = :pending AND leaseOwner = :me AND attribute_not_exists(approved)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def note_refund_pending(self, refund_id: str, transaction_id: str | None, now: str) -> bool:
        """The gateway accepted the refund but settles it later: keep it PENDING with the gateway's id, so the
        later outcome (webhook, reconciliation) can find it. False when it was settled meanwhile. The gateway
        lease is given back: the refund exists at the gateway now, and whoever settles it next takes the lease."""
        values: Item = {":now": {"S": now}, ":pending": {"S": Status.PENDING}}
        update = "REMOVE leaseUntil, leaseOwner SET updatedAt = :now"
        if transaction_id is not None:
            update += ", transactionId = :txn"
            values[":txn"] = {"S": transaction_id}
        return (
            self._update_if(
                TableName=self._refunds,
                Key={"refundId": {"S": refund_id}},
                UpdateExpression=update,
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def approve_refund(
        self, refund: RefundRecord, transaction_id: str | None, processed_at: str
    ) -> WriteResult[RefundRecord]:
        """Record the gateway's approval on a PENDING refund before its refund.succeeded goes out.

        The first answer recorded speaks for the refund: a decline that comes later finds the approval and cannot
        fail it (``fail_reserved_refund``), a refund already FAILED refuses the approval, and every delivery
        publishes the event derived from the item this write returns, so no stale answer contradicts the record.
        """
        values: Item = {":pending": {"S": Status.PENDING}, ":true": {"BOOL": True}, ":processed": {"S": processed_at}}
        update = "SET approved = :true, processedAt = :processed"
        if transaction_id is not None:
            update += ", transactionId = :txn"
            values[":txn"] = {"S": transaction_id}
        return self._update(
            self._refunds,
            {"refundId": {"S": refund.refund_id}},
            update,
            "#s = :pending AND attribute_not_exists(approved)",
            values,
            refund_from_item,
            names={"#s": "status"},
        )

    def finish_refund(self, final: RefundRecord, now: str) -> WriteResult[RefundRecord]:
        """Mark a PENDING refund SUCCEEDED and its outcome as published (the caller publishes first)."""
        values: Item = {
            ":pending": {"S": Status.PENDING},
            ":ok": {"S": Status.SUCCEEDED},
            ":now": {"S": now},
            ":true": {"BOOL": True},
        }
        update = "SET #s = :ok, updatedAt = :now, published = :true"
        for attr, placeholder, value in (
            ("transactionId", ":txn", final.transaction_id),
            ("processedAt", ":processed", final.processed_at),
        ):
            if value is not None:
                update += f", {attr} = {placeholder}"
                values[placeholder] = {"S": value}
        return self._update(
            self._refunds,
            {"refundId": {"S": final.refund_id}},
            update + " REMOVE openStatus, openSince",
            "#s = :pending",
            values,
            refund_from_item,
            names={"#s": "status"},
            written=replace(final, updated_at=now),
        )

    def fail_reserved_refund(self, refund: RefundRecord, code: str, reason: str, now: str) -> bool:
        """The gateway refused the refund: mark it FAILED and give its amount back to the refundable total. Only a
        PENDING refund whose approval was not recorded first can fail: a stale decline of a refund that succeeded
        (or is being published as succeeded) must neither flip it nor release its amount for a second refund."""
        assert refund.amount is not None and refund.payment_id is not None
        return self._transact(
            [
                {
                    "Update": {
                        "TableName": self._refunds,
                        "Key": {"refundId": {"S": refund.refund_id}},
                        "UpdateExpression": "SET #s = :failed, failureCode = :code, failureReason = :reason, "
                        "updatedAt = :now REMOVE openStatus, openSince",
                        "ConditionExpression": "#s = :pending AND attribute_not_exists(approved)",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":failed": {"S": Status.FAILED},
                            ":pending": {"S": Status.PENDING},
                            ":code": {"S": code},
                            ":reason": {"S": reason},
                            ":now": {"S": now},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self._payments,
                        "Key": {"paymentId": {"S": refund.payment_id}},
                        "UpdateExpression": "SET refundedAmount = refundedAmount - :amt",
                        "ExpressionAttributeValues": {":amt": {"N": str(refund.amount.minor_units)}},
                    }
                },
            ]
        )

    def record_refund_failure(self, refund: RefundRecord) -> WriteResult[RefundRecord]:
        """Store a refund that could not happen (no payment, declined payment, over the ceiling)."""
        return self._put_new(self._refunds, "refundId", refund_to_item(refund), refund_from_item)

    def mark_refund_published(self, refund_id: str) -> None:
        self.client.update_item(
            TableName=self._refunds,
            Key={"refundId": {"S": refund_id}},
            UpdateExpression="SET published = :true",
            ConditionExpression="attribute_exists(refundId)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )
