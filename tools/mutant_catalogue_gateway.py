"""Issue 19's mutants (tools/mutant_catalogue.py adds them to MUTANTS): no gateway request before the claim or on
a duplicate, a final record's webhook answered from the table, per-message backoff, and the shared request budget.
"""

from __future__ import annotations

from tools.mutant_catalogue import PKG, Mutant

REQUESTS = "tests/integration/test_gateway_requests.py"
BACKOFF = "tests/integration/test_backoff.py"
BUDGET = "tests/integration/test_request_budget.py"
SEMANTICS = "tests/integration/test_semantics.py"

GATEWAY_MUTANTS = (
    Mutant(
        "gateway-called-before-the-claim",
        f"{PKG}/payment_flow.py",
        "                claim = self._repo.claim_payment(payment_id, trigger, self._now())\n",
        "                self._gateway.release_charge(self._gateway.begin_charge(request))\n"
        "                claim = self._repo.claim_payment(payment_id, trigger, self._now())\n",
        (f"{REQUESTS}::test_a_new_order_costs_two_requests_its_second_trigger_and_redeliveries_none",),
        write="service.handle_payment (claim first)",
        guards="no gateway request before the order is claimed: a second trigger or a finished order's redelivery "
        "costs none",
    ),
    Mutant(
        "second-trigger-talks-to-the-gateway",
        f"{PKG}/domain.py",
        "        if existing.causation_id is not None and existing.causation_id != trigger.meta.event_id:",
        "        if False:",
        (f"{REQUESTS}::test_a_second_trigger_while_the_first_is_in_flight_spends_nothing_and_is_acknowledged",),
        write="domain.decide_payment (IN_FLIGHT)",
        guards="only the claim's owner talks to the gateway about an order in flight",
    ),
    Mutant(
        "final-record-webhook-read-back",
        f"{PKG}/settlement.py",
        "        if known is not None and known.intent_id == notice.handle and not known.status.unfinished:",
        "        if False:",
        (f"{REQUESTS}::test_a_notification_about_a_final_payment_is_answered_without_a_gateway_read",),
        write="settlement._settle_charge",
        guards="a notification about a final record is answered from the table, without a gateway read",
    ),
    Mutant(
        "late-attempt-stored-after-reconciliation-closed-it",
        f"{PKG}/payment_table.py",
        '"#s = :pending AND attribute_not_exists(intentId) AND attribute_not_exists(abandonedAt)",',
        '"#s = :pending AND attribute_not_exists(intentId)",',
        (f"{REQUESTS}::test_a_late_attempt_cannot_be_stored_once_reconciliation_closed_the_record",),
        write="repository.store_intent",
        guards="once reconciliation closed a record without an attempt, no attempt can be stored (nothing charged)",
    ),
    Mutant(
        "backoff-removed",
        f"{PKG}/retry.py",
        "        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record.receipt_handle, "
        "VisibilityTimeout=delay)",
        "        pass",
        (f"{BACKOFF}::test_a_transient_failure_comes_back_after_its_backoff_not_the_visibility_timeout",),
        write="retry.after_failure (ChangeMessageVisibility)",
        guards="a failed record's message comes back after its backoff, not the visibility timeout",
    ),
    Mutant(
        "rate-limit-dead-letters",
        f"{PKG}/retry.py",
        "        if rate_limited(failure) and receives >= cfg.max_receive_count:",
        "        if False:",
        (f"{BACKOFF}::test_a_rate_limit_on_the_last_receive_is_queued_again_not_dead_lettered",),
        write="retry.after_failure (requeue)",
        guards="a 429 on the last receive is queued again, never dead-lettered",
    ),
    Mutant(
        "gateway-budget-ignored",
        f"{PKG}/budget.py",
        '                ConditionExpression="attribute_not_exists(spent) OR spent < :limit",',
        '                ConditionExpression="attribute_not_exists(spent) OR spent >= :one",',
        (f"{BUDGET}::test_senders_together_never_exceed_the_budget_in_any_second_and_use_most_of_it",),
        write="budget.RequestBudget._spend",
        guards="no 1 s window holds more gateway requests than the budget",
    ),
    Mutant(
        "gateway-budget-not-asked",
        f"{PKG}/gateway/stripe_gateway.py",
        "        if self._before_request is not None:",
        "        if False:",
        (f"{BUDGET}::test_every_stripe_request_of_a_payment_is_counted_against_the_budget",),
        write="stripe_gateway._PacedClient.request",
        guards="every Stripe HTTP request is counted against the shared budget",
    ),
    Mutant(
        "recorded-refund-answer-asked-again",
        f"{PKG}/refund_flow.py",
        "        if refund.approved:\n            return self._refund_decided(refund)\n",
        "",
        (f"{REQUESTS}::test_a_resumed_refund_whose_approval_is_recorded_asks_the_gateway_nothing",),
        write="service._refund (resumed)",
        guards="a resumed refund whose approval is recorded publishes and finishes it without a gateway request",
    ),
    Mutant(
        "resumed-refund-not-looked-up",
        f"{PKG}/refund_flow.py",
        "        if not lease.nothing_sent:\n",
        "        if False:\n",
        (
            f"{REQUESTS}::test_a_refund_whose_answer_was_lost_is_looked_up_before_it_is_made_again",
            f"{SEMANTICS}::test_a_resumed_refund_waits_for_the_lease_holder",
        ),
        write="repository.take_refund_lease (refundNotSent)",
        guards="a resumed refund skips the gateway lookup only when its last attempt is known to have done nothing",
    ),
    Mutant(
        "refund-marked-not-sent-after-any-failure",
        f"{PKG}/refund_flow.py",
        "        except GatewayRateLimited:\n            self._repo.release_refund_lease(",
        "        except Exception:\n            self._repo.release_refund_lease(",
        (f"{REQUESTS}::test_a_refund_whose_answer_was_lost_is_looked_up_before_it_is_made_again",),
        write="service._refund_once (release_refund_lease)",
        guards="only a refund refused before it did anything is marked not sent (a 5xx may follow a refund made)",
    ),
    Mutant(
        "refund-lease-released-by-a-former-holder",
        f"{PKG}/refund_table.py",
        'ConditionExpression="#s = :pending AND leaseOwner = :me AND attribute_not_exists(approved)",',
        'ConditionExpression="#s = :pending",',
        (f"{REQUESTS}::test_a_refund_lease_that_passed_to_another_delivery_is_not_given_back_by_its_former_holder",),
        write="repository.release_refund_lease",
        guards="only the lease's holder gives it back (or marks the refund not sent): never a delivery it outlived",
    ),
    Mutant(
        "refund-lease-owned-per-delivery",
        f"{PKG}/refund_flow.py",
        "        me = delivery or str(uuid.uuid4())",
        "        me = str(uuid.uuid4())",
        (f"{REQUESTS}::test_the_redelivery_of_a_failed_refund_takes_its_own_lease_back_at_once",),
        write="repository.take_refund_lease (owner)",
        guards="a refund's lease belongs to its SQS message: the message's redelivery takes it back at once instead "
        "of waiting 5 minutes past a short retry horizon into the DLQ",
    ),
    Mutant(
        "reconciliation-looks-up-a-refund-marked-not-sent",
        f"{PKG}/reconciliation.py",
        "    elif lease.nothing_sent:\n",
        "    elif False:\n",
        (
            f"{REQUESTS}::test_a_rate_limit_outage_on_refunds_past_the_horizon_ends_in_one_refund_failed_without_a_"
            "lookup",
        ),
        write="reconciliation._reconcile_refund (refundNotSent)",
        guards="a refund whose attempts all did nothing is closed without a gateway lookup",
    ),
    Mutant(
        "refund-429-after-an-unclear-attempt-taken-for-nothing-done",
        f"{PKG}/gateway/stripe_gateway.py",
        "            if watch.answered() if watch is not None else self._retries > 0:",
        "            if False:",
        (f"{REQUESTS}::test_a_429_after_an_attempt_that_got_no_clear_answer_is_not_taken_for_nothing_done",),
        write="stripe_gateway.refund (rate limited)",
        guards="a 429 counts as nothing refunded only if no attempt of the call got another answer, or none",
    ),
    Mutant(
        "reconciliation-closes-a-record-holding-an-attempt",
        f"{PKG}/payment_table.py",
        'ConditionExpression="#s = :pending AND attribute_not_exists(intentId)",',
        'ConditionExpression="#s = :pending",',
        (f"{REQUESTS}::test_reconciliation_cannot_close_a_record_that_holds_an_attempt",),
        write="repository.abandon_without_intent",
        guards="reconciliation gives up only on a record with no attempt stored (an attempt may be charged)",
    ),
)
