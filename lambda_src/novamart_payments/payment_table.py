"""The payments table: the DynamoDB adapter's half of the repository port for payments."""

from __future__ import annotations

from dataclasses import replace

from novamart_payments.domain import PaymentRecord, PaymentTrigger, Status, TriggerMeta
from novamart_payments.dynamo_items import Item, meta_attrs, payment_from_item
from novamart_payments.dynamo_tables import DynamoTables
from novamart_payments.failure_codes import PaymentFailureCode
from novamart_payments.ports import WriteResult
from novamart_payments.risk import RiskDecision


class PaymentTable(DynamoTables):
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
            **_new_payment(now, trigger.meta),
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
            **_new_payment(now, meta),
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
        return (
            self._update_if(
                TableName=self._payments,
                Key={"paymentId": {"S": payment_id}},
                UpdateExpression="SET abandonedAt = if_not_exists(abandonedAt, :now)",
                ConditionExpression="#s = :pending AND attribute_not_exists(intentId)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":now": {"S": now}, ":pending": {"S": Status.PENDING}},
            )
            is not None
        )

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

    def note_dispute(self, payment_id: str, dispute_id: str) -> bool:
        """Remember that the dispute's event went out (the caller publishes first); False if it was known."""
        return (
            self._update_if(
                TableName=self._payments,
                Key={"paymentId": {"S": payment_id}},
                UpdateExpression="ADD disputeIds :d",
                ConditionExpression="attribute_exists(paymentId) AND NOT contains(disputeIds, :id)",
                ExpressionAttributeValues={":d": {"SS": [dispute_id]}, ":id": {"S": dispute_id}},
            )
            is not None
        )

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


def _new_payment(now: str, meta: TriggerMeta) -> Item:
    """What every new payment item starts with, a claim or a cancel marker: nothing refunded, version 1, its outcome
    not published yet, and the trigger that made it."""
    return {
        "refundedAmount": {"N": "0"},
        "version": {"N": "1"},
        "published": {"BOOL": False},
        "createdAt": {"S": now},
        "updatedAt": {"S": now},
        **meta_attrs(meta),
    }
