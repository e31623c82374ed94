"""DynamoDB access for payments and refunds.

Every status change is a conditional write: the table, not the process, decides which of several concurrent
deliveries wins. A lost condition is not an error here; the caller gets the item as it now stands (DynamoDB
returns it with the failure, so no extra read) and decides again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botocore.exceptions import ClientError

from novamart_payments import clients
from novamart_payments.domain import Money, PaymentRecord, PaymentTrigger, RefundRecord, Status, TriggerMeta
from novamart_payments.outcomes import PaymentFailureCode
from novamart_payments.risk import RiskDecision

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
R = TypeVar("R", PaymentRecord, RefundRecord)

#: Each table's sparse index of unfinished records (``openStatus`` + ``openSince``): only PENDING and
#: REQUIRES_ACTION payments and PENDING refunds carry the two attributes, so reconciliation queries the few open
#: ones, never the table.
UNFINISHED_INDEX = "unfinished"


@dataclass(frozen=True, slots=True)
class Lease:
    """A refund's gateway lease, taken. ``nothing_sent``: the refund's last attempt was refused before it did
    anything (and every attempt before it is known to have done nothing), so no refund exists at the gateway."""

    nothing_sent: bool


@dataclass(frozen=True, slots=True)
class WriteResult(Generic[R]):
    """Outcome of a conditional write: ``won`` tells whether this caller's write took effect; ``current`` is the
    item after the write, or as it stood when the condition failed (None if it does not exist)."""

    won: bool
    current: R | None


class Repository:
    def __init__(self, payment_table: str, refund_table: str, client: DynamoDBClient | None = None) -> None:
        self._payments = payment_table
        self._refunds = refund_table
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        return self._client if self._client is not None else clients.dynamodb()

    # --- payments ----------------------------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> PaymentRecord | None:
        out = self.client.get_item(TableName=self._payments, Key={"paymentId": {"S": payment_id}}, ConsistentRead=True)
        item = out.get("Item")
        return payment_from_item(item) if item else None

    def claim_payment(self, payment_id: str, trigger: PaymentTrigger, now: str) -> WriteResult[PaymentRecord]:
        """Create the order's payment as PENDING, before any gateway request, unless the order already has a
        payment: this condition decides which trigger (``causationId``) may talk to the gateway for the order."""
        item: Item = {
            "paymentId": {"S": payment_id},
            "orderId": {"S": trigger.order_id},
            "customerId": {"S": trigger.customer_id},
            "amount": {"N": str(trigger.amount.minor_units)},
            "currency": {"S": trigger.amount.currency},
            "status": {"S": Status.PENDING},
            "openStatus": {"S": Status.PENDING},
            "openSince": {"S": now},
            "refundedAmount": {"N": "0"},
            "version": {"N": "1"},
            "published": {"BOOL": False},
            "createdAt": {"S": now},
            "updatedAt": {"S": now},
            **_meta_attrs(trigger.meta),
        }
        return self._put_new(self._payments, "paymentId", item, payment_from_item)

    def block_payment(self, payment_id: str, order_id: str, meta: TriggerMeta, now: str) -> WriteResult[PaymentRecord]:
        """Record that the order was cancelled before payment, so that a later payment trigger cannot charge."""
        item: Item = {
            "paymentId": {"S": payment_id},
            "orderId": {"S": order_id},
            "status": {"S": Status.FAILED},
            "failureCode": {"S": PaymentFailureCode.ORDER_CANCELLED},
            "failureReason": {"S": "The order was cancelled before payment was taken."},
            "cancelledBeforePayment": {"BOOL": True},
            "refundedAmount": {"N": "0"},
            "version": {"N": "1"},
            "published": {"BOOL": False},
            "createdAt": {"S": now},
            "updatedAt": {"S": now},
            **_meta_attrs(meta),
        }
        return self._put_new(self._payments, "paymentId", item, payment_from_item)

    def attach_blocked_payment(self, payment_id: str, trigger: PaymentTrigger, now: str) -> WriteResult[PaymentRecord]:
        """Fill a cancelled-before-payment marker with the payment trigger that arrived late, so its
        ``payment.failed`` outcome carries the trigger's customer and amount."""
        return self._update(
            self._payments,
            {"paymentId": {"S": payment_id}},
            "SET customerId = :c, amount = :a, currency = :cur, correlationId = :corr, causationId = :cause, "
            "updatedAt = :now, version = version + :one",
            "cancelledBeforePayment = :true AND attribute_not_exists(amount)",
            {
                ":c": {"S": trigger.customer_id},
                ":a": {"N": str(trigger.amount.minor_units)},
                ":cur": {"S": trigger.amount.currency},
                ":corr": {"S": trigger.meta.correlation_id},
                ":cause": {"S": trigger.meta.event_id},
                ":now": {"S": now},
                ":one": {"N": "1"},
                ":true": {"BOOL": True},
            },
            payment_from_item,
        )

    def record_risk_decision(self, payment_id: str, decision: RiskDecision, now: str) -> WriteResult[PaymentRecord]:
        """Store the risk check's decision on the PENDING claim, once: a delivery that loses (another delivery of
        the order decided first, or the record moved on) gets the item as it stands and follows its decision."""
        return self._update(
            self._payments,
            {"paymentId": {"S": payment_id}},
            "SET risk = :risk, updatedAt = :now",
            "#s = :pending AND attribute_not_exists(risk)",
            {":risk": {"M": decision.to_item()}, ":now": {"S": now}, ":pending": {"S": Status.PENDING}},
            payment_from_item,
            names={"#s": "status"},
        )

    def store_intent(self, payment_id: str, intent_id: str, now: str) -> WriteResult[PaymentRecord]:
        """Attach the gateway handle the claim's owner opened, before it is confirmed. The condition is the one
        place that decides which handle an order is charged on: a second handle (a concurrent copy of the same
        trigger) or a record reconciliation has begun to close (``abandonedAt``) is refused."""
        return self._update(
            self._payments,
            {"paymentId": {"S": payment_id}},
            "SET intentId = :intent, updatedAt = :now",
            "#s = :pending AND attribute_not_exists(intentId) AND attribute_not_exists(abandonedAt)",
            {":intent": {"S": intent_id}, ":now": {"S": now}, ":pending": {"S": Status.PENDING}},
            payment_from_item,
            names={"#s": "status"},
        )

    def abandon_without_intent(self, payment_id: str, now: str) -> bool:
        """Reconciliation gives up on a PENDING payment that never got a gateway handle (the gateway stayed
        unavailable past the retry horizon): from this write on no handle can be stored, so nothing can be
        charged, and ``payment.failed`` may go out. Repeatable, so a pass that crashed after it can finish."""
        try:
            self.client.update_item(
                TableName=self._payments,
                Key={"paymentId": {"S": payment_id}},
                UpdateExpression="SET abandonedAt = if_not_exists(abandonedAt, :now)",
                ConditionExpression="#s = :pending AND attribute_not_exists(intentId)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":now": {"S": now}, ":pending": {"S": Status.PENDING}},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def require_action(self, waiting: PaymentRecord, now: str) -> WriteResult[PaymentRecord]:
        """Move a PENDING payment to REQUIRES_ACTION (its payment.action_required went out first). It stays in the
        unfinished index, from now, so reconciliation can cancel it once its deadline has passed."""
        assert waiting.action_type is not None and waiting.action_expires_at is not None
        return self._update(
            self._payments,
            {"paymentId": {"S": waiting.payment_id}},
            "SET #s = :action, openStatus = :action, openSince = :now, actionType = :kind, "
            "actionExpiresAt = :expires, updatedAt = :now, version = version + :one",
            "#s = :pending",
            {
                ":action": {"S": Status.REQUIRES_ACTION},
                ":pending": {"S": Status.PENDING},
                ":kind": {"S": waiting.action_type},
                ":expires": {"S": waiting.action_expires_at},
                ":now": {"S": now},
                ":one": {"N": "1"},
            },
            payment_from_item,
            names={"#s": "status"},
            written=replace(waiting, status=Status.REQUIRES_ACTION, updated_at=now),
        )

    def unfinished_payments(self, status: Status, opened_before: str, limit: int) -> list[PaymentRecord]:
        """The oldest payments in ``status`` opened before the given time, oldest first, from the sparse index."""
        return [payment_from_item(i) for i in self._unfinished(self._payments, status, opened_before, limit)]

    def unfinished_refunds(self, opened_before: str, limit: int) -> list[RefundRecord]:
        """The oldest PENDING refunds opened before the given time, oldest first, from the sparse index."""
        return [refund_from_item(i) for i in self._unfinished(self._refunds, Status.PENDING, opened_before, limit)]

    def oldest_unfinished_since(self, status: Status, *, refunds: bool = False) -> str | None:
        """When the oldest payment (or refund) still in ``status`` was opened (None when there is none)."""
        items = self._unfinished(self._refunds if refunds else self._payments, status, None, 1)
        return _s(items[0], "openSince") if items else None

    def _unfinished(self, table: str, status: Status, opened_before: str | None, limit: int) -> list[Item]:
        values: Item = {":s": {"S": status}}
        condition = "openStatus = :s"
        if opened_before is not None:
            condition += " AND openSince < :before"
            values[":before"] = {"S": opened_before}
        out = self.client.query(
            TableName=table,
            IndexName=UNFINISHED_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=True,
            Limit=limit,
        )
        return list(out.get("Items", []))

    def note_dispute(self, payment_id: str, dispute_id: str) -> bool:
        """Remember that the dispute's event went out (the caller publishes first); False if it was known."""
        try:
            self.client.update_item(
                TableName=self._payments,
                Key={"paymentId": {"S": payment_id}},
                UpdateExpression="ADD disputeIds :d",
                ConditionExpression="attribute_exists(paymentId) AND NOT contains(disputeIds, :id)",
                ExpressionAttributeValues={":d": {"SS": [dispute_id]}, ":id": {"S": dispute_id}},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def note_review(self, payment_id: str, review_id: str, state: str) -> None:
        """Record a Radar review's state on the payment (``opened``, ``closed:<reason>``): a set, so a replay or an
        out-of-order delivery only adds what is already there."""
        self.client.update_item(
            TableName=self._payments,
            Key={"paymentId": {"S": payment_id}},
            UpdateExpression="ADD radarReviews :r",
            ExpressionAttributeValues={":r": {"SS": [f"{review_id}:{state}"]}},
        )

    def finish_payment(self, final: PaymentRecord, now: str) -> WriteResult[PaymentRecord]:
        """Move an unfinished payment to its final status, noting that its outcome event went out (the caller
        publishes first), and take it out of the unfinished index. Only one delivery or notification can do so;
        the others get the winner's item back."""
        values: Item = {
            ":pending": {"S": Status.PENDING},
            ":action": {"S": Status.REQUIRES_ACTION},
            ":status": {"S": final.status},
            ":now": {"S": now},
            ":one": {"N": "1"},
            ":true": {"BOOL": True},
        }
        sets = ["#s = :status", "updatedAt = :now", "version = version + :one", "published = :true"]
        for attr, placeholder, value in (
            ("transactionId", ":txn", final.transaction_id),
            ("failureCode", ":code", final.failure_code),
            ("failureReason", ":reason", final.failure_reason),
            ("processedAt", ":processed", final.processed_at),
            ("radarOutcome", ":radar", final.radar_outcome),
            ("radarRiskLevel", ":risklevel", final.radar_risk_level),
        ):
            if value is not None:
                sets.append(f"{attr} = {placeholder}")
                values[placeholder] = {"S": value}
        if final.radar_risk_score is not None:
            sets.append("radarRiskScore = :riskscore")
            values[":riskscore"] = {"N": str(final.radar_risk_score)}
        return self._update(
            self._payments,
            {"paymentId": {"S": final.payment_id}},
            "SET " + ", ".join(sets) + " REMOVE openStatus, openSince",
            "#s IN (:pending, :action)",
            values,
            payment_from_item,
            names={"#s": "status"},
            written=replace(final, updated_at=now),
        )

    def mark_payment_published(self, payment_id: str) -> None:
        self.client.update_item(
            TableName=self._payments,
            Key={"paymentId": {"S": payment_id}},
            UpdateExpression="SET published = :true",
            ConditionExpression="attribute_exists(paymentId)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )

    # --- refunds -----------------------------------------------------------------------------------------

    def get_refund(self, refund_id: str) -> RefundRecord | None:
        out = self.client.get_item(TableName=self._refunds, Key={"refundId": {"S": refund_id}}, ConsistentRead=True)
        item = out.get("Item")
        return refund_from_item(item) if item else None

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
        try:
            out = self.client.update_item(
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
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
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
        try:
            self.client.update_item(
                TableName=self._refunds,
                Key={"refundId": {"S": refund_id}},
                UpdateExpression=update,
                ConditionExpression="#s = :pending AND leaseOwner = :me AND attribute_not_exists(approved)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def note_refund_pending(self, refund_id: str, transaction_id: str | None, now: str) -> bool:
        """The gateway accepted the refund but settles it later: keep it PENDING with the gateway's id, so the
        later outcome (webhook, reconciliation) can find it. False when it was settled meanwhile. The gateway
        lease is given back: the refund exists at the gateway now, and whoever settles it next takes the lease."""
        values: Item = {":now": {"S": now}, ":pending": {"S": Status.PENDING}}
        update = "REMOVE leaseUntil, leaseOwner SET updatedAt = :now"
        if transaction_id is not None:
            update += ", transactionId = :txn"
            values[":txn"] = {"S": transaction_id}
        try:
            self.client.update_item(
                TableName=self._refunds,
                Key={"refundId": {"S": refund_id}},
                UpdateExpression=update,
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

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

    # --- helpers -----------------------------------------------------------------------------------------

    def _transact(self, items: list[Any]) -> bool:
        """All-or-nothing write; False when a condition failed (the caller decides again from fresh state)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as err:
            if err.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def _put_new(self, table: str, key: str, item: Item, parse: Callable[[Item], R]) -> WriteResult[R]:
        try:
            self.client.put_item(
                TableName=table,
                Item=item,
                ConditionExpression=f"attribute_not_exists({key})",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            return WriteResult(False, _old_item(err, parse))
        return WriteResult(True, parse(item))

    def _update(
        self,
        table: str,
        key: Item,
        update: str,
        condition: str,
        values: Item,
        parse: Callable[[Item], R],
        names: dict[str, str] | None = None,
        written: R | None = None,
    ) -> WriteResult[R]:
        """Conditional UpdateItem. When the caller already knows the item it is writing (``written``), the
        new image is not requested back: measured ~15 % cheaper per call."""
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            out = self.client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="NONE" if written is not None else "ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as err:
            return WriteResult(False, _old_item(err, parse))
        return WriteResult(True, written if written is not None else parse(out["Attributes"]))


def _old_item(err: ClientError, parse: Callable[[Item], R]) -> R | None:
    if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
        raise err
    # DynamoDB returns the item as it stood when the condition failed (ReturnValuesOnConditionCheckFailure).
    old: Item | None = err.response.get("Item")  # type: ignore[assignment]
    return parse(old) if old else None


def _meta_attrs(meta: TriggerMeta) -> Item:
    return {"correlationId": {"S": meta.correlation_id}, "causationId": {"S": meta.event_id}}


def _s(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def _money(item: Item) -> Money | None:
    if "amount" not in item or "currency" not in item:
        return None
    return Money(int(item["amount"]["N"]), item["currency"]["S"])


def payment_from_item(item: Item) -> PaymentRecord:
    return PaymentRecord(
        payment_id=item["paymentId"]["S"],
        order_id=item["orderId"]["S"],
        status=Status(item["status"]["S"]),
        customer_id=_s(item, "customerId"),
        amount=_money(item),
        refunded_minor_units=int(item.get("refundedAmount", {"N": "0"})["N"]),
        transaction_id=_s(item, "transactionId"),
        failure_code=_s(item, "failureCode"),
        failure_reason=_s(item, "failureReason"),
        published=bool(item.get("published", {}).get("BOOL", False)),
        cancelled_before_payment=bool(item.get("cancelledBeforePayment", {}).get("BOOL", False)),
        intent_id=_s(item, "intentId"),
        correlation_id=_s(item, "correlationId") or "",
        causation_id=_s(item, "causationId"),
        created_at=_s(item, "createdAt") or "",
        updated_at=_s(item, "updatedAt") or "",
        processed_at=_s(item, "processedAt"),
        action_type=_s(item, "actionType"),
        action_expires_at=_s(item, "actionExpiresAt"),
        dispute_ids=frozenset(item.get("disputeIds", {}).get("SS", [])),
        risk=RiskDecision.from_item(item["risk"]["M"]) if "risk" in item else None,
        radar_outcome=_s(item, "radarOutcome"),
        radar_risk_level=_s(item, "radarRiskLevel"),
        radar_risk_score=int(item["radarRiskScore"]["N"]) if "radarRiskScore" in item else None,
    )


def refund_to_item(refund: RefundRecord) -> Item:
    item: Item = {
        "refundId": {"S": refund.refund_id},
        "orderId": {"S": refund.order_id},
        "status": {"S": refund.status},
        "reason": {"S": refund.reason},
        "idempotencyKey": {"S": refund.idempotency_key},
        "published": {"BOOL": refund.published},
        "correlationId": {"S": refund.correlation_id},
        "createdAt": {"S": refund.created_at},
        "updatedAt": {"S": refund.updated_at},
    }
    optional = {
        "paymentId": refund.payment_id,
        "customerId": refund.customer_id,
        "transactionId": refund.transaction_id,
        "failureCode": refund.failure_code,
        "failureReason": refund.failure_reason,
        "causationId": refund.causation_id,
        "processedAt": refund.processed_at,
    }
    item.update({k: {"S": v} for k, v in optional.items() if v is not None})
    if refund.amount is not None:
        item["amount"] = {"N": str(refund.amount.minor_units)}
        item["currency"] = {"S": refund.amount.currency}
    if refund.approved:
        item["approved"] = {"BOOL": True}
    return item


def refund_from_item(item: Item) -> RefundRecord:
    return RefundRecord(
        refund_id=item["refundId"]["S"],
        order_id=item["orderId"]["S"],
        status=Status(item["status"]["S"]),
        amount=_money(item),
        payment_id=_s(item, "paymentId"),
        customer_id=_s(item, "customerId"),
        reason=_s(item, "reason") or "",
        transaction_id=_s(item, "transactionId"),
        failure_code=_s(item, "failureCode"),
        failure_reason=_s(item, "failureReason"),
        published=bool(item.get("published", {}).get("BOOL", False)),
        correlation_id=_s(item, "correlationId") or "",
        causation_id=_s(item, "causationId"),
        idempotency_key=_s(item, "idempotencyKey") or "",
        created_at=_s(item, "createdAt") or "",
        updated_at=_s(item, "updatedAt") or "",
        processed_at=_s(item, "processedAt"),
        approved=bool(item.get("approved", {}).get("BOOL", False)),
    )
