"""The mutants of ``make mutants`` (tools/mutants.py): each removes one guarded property from ``lambda_src`` in a
copy, and names the tests that must go red. ``write`` and ``guards`` are docs/design.md's table of guarded
writes (``tools/mutants.py --docs``), so the documentation lists exactly what is proven.
"""

from __future__ import annotations

from dataclasses import dataclass

PKG = "lambda_src/novamart_payments"
SEMANTICS = "tests/integration/test_semantics.py"
GUARDS = "tests/integration/test_guards.py"
LATER = "tests/integration/test_later_outcomes.py"
STATUS = "tests/integration/test_status_guards.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]  # what --fast runs: the tests that must catch it
    write: str = ""  # the conditional write, status transition or check it removes (docs/design.md's table)
    guards: str = ""  # what the guard keeps true, in a reader's words


MUTANTS = (
    Mutant(
        "pending-claim-unconditional",
        f"{PKG}/payment_table.py",
        '        return self._put_new(self._payments, "paymentId", item, payment_from_item)\n\n    def block_payment',
        "        self.client.put_item(TableName=self._payments, Item=item)\n"
        "        return WriteResult(True, payment_from_item(item))\n"
        "\n"
        "    def block_payment",
        (f"{SEMANTICS}::test_redelivered_trigger_charges_once",),
        write="repository.claim_payment",
        guards="one payment item per order: the claim is the only place an order gets its charge handle",
    ),
    Mutant(
        "refund-ceiling-removed",
        f"{PKG}/refund_table.py",
        '"ConditionExpression": "#s = :succeeded AND refundedAmount <= :limit",',
        '"ConditionExpression": "#s = :succeeded",',
        (f"{SEMANTICS}::test_stale_read_cannot_refund_past_the_capture",),
        write="repository.reserve_refund (payment)",
        guards="the refunded total never exceeds the capture, even on a stale read",
    ),
    Mutant(
        "idempotency-key-includes-event-id",
        f"{PKG}/payment_flow.py",
        "        idempotency_key=domain.charge_key(trigger.order_id),",
        '        idempotency_key=f"{domain.charge_key(trigger.order_id)}:{trigger.meta.event_id}",',
        (f"{SEMANTICS}::test_gateway_keys_name_the_business_action_not_the_delivery",),
        write="service.charge_request",
        guards="the gateway key names the order, not the delivery",
    ),
    Mutant(
        "outbound-validation-removed",
        f"{PKG}/publisher.py",
        "        validate_event(event)\n",
        "        pass\n",
        (f"{GUARDS}::test_outbound_events_are_validated_before_they_leave",),
        write="publisher.publish",
        guards="nothing leaves that breaks its schema",
    ),
    Mutant(
        "declined-refund-keeps-its-reservation",
        f"{PKG}/refund_table.py",
        '"ExpressionAttributeValues": {":amt": {"N": str(refund.amount.minor_units)}},',
        '"ExpressionAttributeValues": {":amt": {"N": "0"}},',
        (f"{GUARDS}::test_a_declined_refund_gives_its_reserved_amount_back",),
        write="repository.fail_reserved_refund (payment)",
        guards="a declined refund gives its reserved amount back",
    ),
    Mutant(
        "cold-start-config-check-removed",
        f"{PKG}/handlers/_batch.py",
        "        get_config()  # fail the cold start",
        "        pass  # fail the cold start",
        (f"{GUARDS}::test_a_missing_setting_fails_the_cold_start_before_any_record",),
        write="handlers._batch",
        guards="a missing setting fails the cold start, before any record",
    ),
    Mutant(
        "event-bus-name-not-validated",
        f"{PKG}/config.py",
        'event_bus_name=_required(env, "EVENT_BUS_NAME", _BUS_NAME, default="default"),',
        'event_bus_name=env.get("EVENT_BUS_NAME") or "default",',
        ("tests/unit/test_config.py",),
        write="config.Config.from_env",
        guards="the bus name is checked",
    ),
    Mutant(
        "final-write-without-pending",
        f"{PKG}/payment_table.py",
        '" REMOVE openStatus, openSince",\n            "#s IN (:pending, :action)",',
        '" REMOVE openStatus, openSince",\n            "attribute_exists(paymentId)",',
        (f"{GUARDS}::test_the_final_write_only_finishes_a_pending_payment",),
        write="repository.finish_payment",
        guards="PENDING / REQUIRES_ACTION -> SUCCEEDED / FAILED only: a final payment never moves",
    ),
    Mutant(
        "webhook-signature-not-verified",
        f"{PKG}/gateway/stripe_webhooks.py",
        "        stripe.WebhookSignature.verify_header(payload, signature, secret)\n"
        "    except stripe.SignatureVerificationError:\n"
        '        raise BadWebhook("bad_signature") from None\n'
        "    except UnicodeDecodeError:\n"
        '        raise BadWebhook("not_json") from None\n'
        "    try:\n"
        "        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)",
        '        event = stripe.Event.construct_from(__import__("json").loads(payload), "")',
        (f"{LATER}::test_a_webhook_that_is_not_a_fresh_stripe_event_changes_nothing",),
        write="gateway.stripe_webhooks.verified_event",
        guards="only Stripe-signed notifications are read",
    ),
    Mutant(
        "webhook-timestamp-not-checked",
        f"{PKG}/gateway/stripe_webhooks.py",
        "TOLERANCE_SECONDS = 300",
        "TOLERANCE_SECONDS = 10**9",
        (f"{LATER}::test_a_webhook_that_is_not_a_fresh_stripe_event_changes_nothing",),
        write="gateway.stripe_webhooks.verified_event",
        guards="an old signed notification is refused",
    ),
    Mutant(
        "webhook-replays-not-remembered",
        f"{PKG}/handlers/webhooks.py",
        "    return str(once(event_id=event_id, notices=notices))",
        "    return _settle_all(event_id=event_id, notices=notices)",
        (f"{LATER}::test_the_webhook_finishes_a_3ds_payment_exactly_once",),
        write="webhooks.settle_once (Powertools idempotency)",
        guards="one delivery of a Stripe event at a time; a finished one is answered, not redone",
    ),
    Mutant(
        "webhook-lease-outlives-the-invocation",
        f"{PKG}/handlers/webhooks.py",
        '    lease = context if callable(getattr(context, "get_remaining_time_in_millis", None)) else _Lease()',
        "    lease = _Lease()",
        (f"{LATER}::test_a_delivery_in_progress_is_answered_409_and_its_claim_ends_with_its_invocation",),
        write="webhooks.settle_once (the claim's lease)",
        guards="a claim holds while its invocation may run; a stopped delivery's retry is settled, not turned away",
    ),
    Mutant(
        "webhook-failed-claim-kept",
        f"{PKG}/handlers/webhooks.py",
        "        with contextlib.suppress(Exception):\n            super().delete_record(data, exception)",
        "        pass",
        (f"{LATER}::test_a_failed_settlement_gives_its_claim_back_for_stripes_retry",),
        write="webhooks.EventLog.delete_record",
        guards="a failed delivery gives its claim back, so Stripe's retry is settled at once",
    ),
    Mutant(
        "reconciliation-does-not-cancel-first",
        f"{PKG}/reconciliation.py",
        "        result = self._gateway.cancel_charge(record.intent_id)",
        '        result = GatewayResult(Outcome.DECLINED, record.intent_id, "payment_canceled", "not cancelled", "")',
        (f"{LATER}::test_an_outage_past_the_retry_horizon_fails_the_payment_once_nothing_was_charged",),
        write="reconciliation._cancel_then_settle",
        guards="an unconfirmed intent is cancelled before payment.failed goes out",
    ),
    Mutant(
        "waiting-payment-not-cancelled-with-its-order",
        f"{PKG}/domain.py",
        "        return RefundDecision(RefundAction.CANCEL_PAYMENT)",
        "        return RefundDecision(RefundAction.WAIT_FOR_PAYMENT)",
        (f"{LATER}::test_an_order_cancelled_while_waiting_for_the_customer_cancels_the_intent",),
        write="domain.decide_refund",
        guards="REQUIRES_ACTION -> FAILED (order_cancelled) when its order ends",
    ),
    # --- issue 24: the six guards a review removed with every suite green, the stale-answer publish, the sweep ---
    Mutant(
        "refund-decline-from-any-status",
        f"{PKG}/refund_table.py",
        '"ConditionExpression": "#s = :pending AND attribute_not_exists(approved)",',
        '"ConditionExpression": "#s = :pending OR #s <> :pending",',
        (f"{STATUS}::test_a_late_decline_cannot_fail_a_refund_that_succeeded",),
        write="repository.fail_reserved_refund (refund)",
        guards="PENDING -> FAILED only: a late decline cannot fail a SUCCEEDED refund and release its amount again",
    ),
    Mutant(
        "refund-decline-ignores-recorded-approval",
        f"{PKG}/refund_table.py",
        '"ConditionExpression": "#s = :pending AND attribute_not_exists(approved)",',
        '"ConditionExpression": "#s = :pending",',
        (f"{STATUS}::test_a_decline_after_the_approval_was_recorded_finishes_the_approval",),
        write="repository.fail_reserved_refund (refund)",
        guards="a decline cannot fail a refund whose approval was recorded first: the first answer is published",
    ),
    Mutant(
        "cancel-marker-unconditional",
        f"{PKG}/payment_table.py",
        '        return self._put_new(self._payments, "paymentId", item, payment_from_item)\n\n    def attach_blocked',
        "        self.client.put_item(TableName=self._payments, Item=item)\n"
        "        return WriteResult(True, payment_from_item(item))\n"
        "\n"
        "    def attach_blocked",
        (f"{STATUS}::test_a_cancel_marker_cannot_overwrite_a_payment_that_landed_first",),
        write="repository.block_payment",
        guards="(none) -> FAILED marker only: a cancel marker never overwrites a payment that was claimed and charged",
    ),
    Mutant(
        "webhook-settles-any-intent-of-the-order",
        f"{PKG}/settlement.py",
        "    if record is None or record.intent_id != handle:",
        "    if record is None:",
        (f"{STATUS}::test_the_losing_intent_of_a_claim_race_cannot_settle_the_order",),
        write="settlement._payment_behind",
        guards="a notification settles a payment only about its stored intent, never a claim race's cancelled loser",
    ),
    Mutant(
        "reconciliation-ignores-the-cancel-answer",
        f"{PKG}/reconciliation.py",
        "        result = self._gateway.cancel_charge(record.intent_id)\n"
        "        if result.outcome is Outcome.DECLINED and result.code == PaymentFailureCode.PAYMENT_CANCELED:",
        "        self._gateway.cancel_charge(record.intent_id)\n"
        "        result = GatewayResult(\n"
        '            Outcome.DECLINED, record.intent_id, "payment_canceled", "x", record.created_at\n'
        "        )\n"
        "        if True:",
        (f"{STATUS}::test_a_customer_who_authenticates_as_the_deadline_passes_is_charged_not_failed",),
        write="reconciliation._cancel_then_settle",
        guards="REQUIRES_ACTION -> FAILED only when the cancel says cancelled; one that succeeded meanwhile succeeds",
    ),
    Mutant(
        "refund-finish-from-any-status",
        f"{PKG}/refund_table.py",
        '            "#s = :pending",\n            values,\n            refund_from_item,',
        '            "#s = :pending OR #s <> :pending",\n            values,\n            refund_from_item,',
        (f"{STATUS}::test_the_final_refund_write_only_finishes_a_pending_refund",),
        write="repository.finish_refund",
        guards="PENDING -> SUCCEEDED only: a stale approval cannot succeed a declined refund (amount given back)",
    ),
    Mutant(
        "refund-approval-from-any-status",
        f"{PKG}/refund_table.py",
        '            "#s = :pending AND attribute_not_exists(approved)",\n            values,',
        '            "(#s = :pending OR #s <> :pending) AND attribute_not_exists(approved)",\n            values,',
        (f"{STATUS}::test_a_stale_approval_of_a_declined_refund_publishes_nothing",),
        write="repository.approve_refund",
        guards="an approval is recorded only on a PENDING refund, once: the first recorded answer speaks",
    ),
    Mutant(
        "three-d-secure-deadline-ignored",
        f"{PKG}/reconciliation.py",
        "    expired = record.action_expires_at is not None and record.action_expires_at <= now",
        "    expired = record.action_expires_at is not None",
        (f"{STATUS}::test_a_pass_before_the_default_deadline_leaves_the_customer_time",),
        write="reconciliation._reconcile_one",
        guards="REQUIRES_ACTION is cancelled only after its deadline: a customer still authenticating keeps their time",
    ),
    Mutant(
        "stale-payment-answer-published",
        f"{PKG}/payment_flow.py",
        "            if current is None or not current.status.unfinished:",
        "            if current is None:",
        (
            f"{STATUS}::test_a_stale_decline_of_a_payment_that_moved_on_publishes_nothing",
            f"{STATUS}::test_a_stale_decline_after_a_charge_publishes_nothing",
        ),
        write="service._settle_payment (check before publish)",
        guards="a decline or authentication request about a payment that moved on publishes nothing",
    ),
    Mutant(
        "stale-refund-answer-published",
        f"{PKG}/refund_flow.py",
        "        if current.status is Status.PENDING:\n            final = replace(current,",
        "        if True:\n            final = replace(current,",
        (f"{STATUS}::test_a_stale_approval_of_a_declined_refund_publishes_nothing",),
        write="service._refund_decided",
        guards="refund.succeeded comes from the recorded approval: an answer about a settled refund publishes nothing",
    ),
    Mutant(
        "settled-refund-never-republished",
        f"{PKG}/settlement.py",
        "    if refund.status is not Status.PENDING and refund.published:",
        "    if refund.status is not Status.PENDING:",
        (f"{STATUS}::test_a_decline_whose_delivery_died_before_publishing_is_published_by_the_next_notice",),
        write="settlement._settle_refund",
        guards="a declined refund whose delivery died before publishing gets its refund.failed from the next notice",
    ),
    Mutant(
        "attach-to-any-payment",
        f"{PKG}/payment_table.py",
        '"cancelledBeforePayment = :true AND attribute_not_exists(amount)",',
        '"cancelledBeforePayment = :true OR attribute_exists(paymentId)",',
        (f"{STATUS}::test_a_late_payment_trigger_cannot_attach_itself_to_a_real_payment",),
        write="repository.attach_blocked_payment",
        guards="a late trigger fills only a cancel marker that has none: no amount or customer is rewritten",
    ),
    Mutant(
        "require-action-from-any-status",
        f"{PKG}/payment_table.py",
        '            "#s = :pending",\n            {\n                ":action": {"S": Status.REQUIRES_ACTION},',
        '            "#s = :pending OR #s <> :pending",\n'
        "            {\n"
        '                ":action": {"S": Status.REQUIRES_ACTION},',
        (f"{LATER}::test_waiting_records_move_only_forward",),
        write="repository.require_action",
        guards="PENDING -> REQUIRES_ACTION only: a waiting or final payment never waits again",
    ),
    Mutant(
        "dispute-noted-twice",
        f"{PKG}/payment_table.py",
        'ConditionExpression="attribute_exists(paymentId) AND NOT contains(disputeIds, :id)",',
        'ConditionExpression="attribute_exists(paymentId) AND '
        '(contains(disputeIds, :id) OR NOT contains(disputeIds, :id))",',
        (f"{STATUS}::test_a_dispute_is_noted_once_even_when_two_notices_race",),
        write="repository.note_dispute",
        guards="a dispute is noted (and counted) once, on an existing payment",
    ),
    Mutant(
        "payment-published-mark-creates-items",
        f"{PKG}/payment_table.py",
        '            UpdateExpression="SET published = :true",\n'
        '            ConditionExpression="attribute_exists(paymentId)",',
        '            UpdateExpression="SET published = :true",\n'
        '            ConditionExpression="attribute_not_exists(nothing)",',
        (f"{STATUS}::test_marking_an_outcome_published_never_creates_a_record",),
        write="repository.mark_payment_published",
        guards="marking an outcome published never creates a payment item",
    ),
    Mutant(
        "refund-published-mark-creates-items",
        f"{PKG}/refund_table.py",
        '            UpdateExpression="SET published = :true",\n'
        '            ConditionExpression="attribute_exists(refundId)",',
        '            UpdateExpression="SET published = :true",\n'
        '            ConditionExpression="attribute_not_exists(nothing)",',
        (f"{STATUS}::test_marking_an_outcome_published_never_creates_a_record",),
        write="repository.mark_refund_published",
        guards="marking an outcome published never creates a refund item",
    ),
    Mutant(
        "reserve-on-a-payment-that-did-not-succeed",
        f"{PKG}/refund_table.py",
        '"ConditionExpression": "#s = :succeeded AND refundedAmount <= :limit",',
        '"ConditionExpression": "#s <> :succeeded OR refundedAmount <= :limit",',
        (f"{STATUS}::test_a_refund_cannot_be_reserved_against_a_payment_that_did_not_succeed",),
        write="repository.reserve_refund (payment)",
        guards="a refund is reserved only against a SUCCEEDED payment",
    ),
    Mutant(
        "refund-reserved-twice",
        f"{PKG}/refund_table.py",
        '                        "ConditionExpression": "attribute_not_exists(refundId)",\n',
        '                        "ConditionExpression": '
        '"attribute_exists(refundId) OR attribute_not_exists(refundId)",\n',
        (f"{STATUS}::test_a_refund_is_reserved_once_however_many_deliveries_decided_to",),
        write="repository.reserve_refund (refund)",
        guards="(none) -> PENDING once: a refund is reserved against the payment once",
    ),
    Mutant(
        "refund-lease-ignored",
        f"{PKG}/refund_table.py",
        'ConditionExpression="#s = :pending AND "\n'
        '            "(attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :me)",',
        'ConditionExpression="#s = :pending AND "\n'
        '            "(attribute_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :me)",',
        (f"{SEMANTICS}::test_a_resumed_refund_waits_for_the_lease_holder",),
        write="repository.take_refund_lease",
        guards="one delivery at a time asks the gateway about a PENDING refund (no second refund at the gateway)",
    ),
    Mutant(
        "settled-refund-noted-pending",
        f"{PKG}/refund_table.py",
        '                UpdateExpression=update,\n                ConditionExpression="#s = :pending",',
        "                UpdateExpression=update,\n"
        '                ConditionExpression="#s = :pending OR #s <> :pending",',
        (f"{STATUS}::test_a_settled_refund_is_not_noted_pending_again",),
        write="repository.note_refund_pending",
        guards="a PENDING refund stays PENDING on a 'pending' answer; a settled one is not touched",
    ),
    Mutant(
        "refund-failure-recorded-twice",
        f"{PKG}/refund_table.py",
        '        return self._put_new(self._refunds, "refundId", refund_to_item(refund), refund_from_item)',
        "        self.client.put_item(TableName=self._refunds, Item=refund_to_item(refund))\n"
        "        return WriteResult(True, refund)",
        (f"{STATUS}::test_a_refund_failure_is_recorded_once",),
        write="repository.record_refund_failure",
        guards="(none) -> FAILED once: a recorded refusal is never overwritten",
    ),
)
