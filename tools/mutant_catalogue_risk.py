"""Issue 20's mutants (fraud and risk), kept beside ``tools/mutant_catalogue.py``: the risk check skipped, an order
counted per delivery instead of once, and the early-fraud-warning refund not deduplicated."""

from __future__ import annotations

from tools.mutant_catalogue import PKG, Mutant

RISK = "tests/integration/test_risk.py"
RADAR = "tests/integration/test_radar.py"

RISK_MUTANTS = (
    Mutant(
        "risk-check-skipped",
        f"{PKG}/payment_flow.py",
        "            verdict = self._risk_decision(pending, request)\n",
        "            verdict = ALLOW\n",
        (f"{RISK}::test_a_blocked_order_makes_no_gateway_request_and_publishes_one_fraud_failure",),
        write="service._charge (risk decision before the first gateway request)",
        guards="a blocked order makes no gateway request and fails with its fraud code",
    ),
    Mutant(
        "risk-decision-overwritten",
        f"{PKG}/payment_table.py",
        '            "#s = :pending AND attribute_not_exists(risk)",\n',
        '            "#s = :pending",\n',
        (f"{RISK}::test_the_decision_is_stored_once_and_a_later_one_loses_to_it",),
        write="repository.record_risk_decision",
        guards="one risk decision per order: every delivery follows the first one stored",
    ),
    Mutant(
        "risk-counted-per-delivery",
        f"{PKG}/risk/counters.py",
        '                ExpressionAttributeNames={"#o": f"{ORDER_PREFIX}{subject.order_id}"},\n',
        "                ExpressionAttributeNames="
        '{"#o": f"{ORDER_PREFIX}{subject.order_id}:{__import__(\'uuid\').uuid4()}"},\n',
        (f"{RISK}::test_a_redelivery_after_a_crash_before_the_decision_was_stored_counts_nothing_twice",),
        write="risk.counters.Counters._count_order",
        guards="each order is counted once in the velocity counters, however many deliveries ask",
    ),
    Mutant(
        "fraud-warning-refund-not-deduplicated",
        f"{PKG}/radar.py",
        "        outcome = self.handle_refund(trigger, known=(record, existing))\n    ",
        "        assert record.amount is not None\n"
        "        money = record.amount\n"
        "        left = type(money)(money.minor_units - record.refunded_minor_units, money.currency)\n"
        "        per_delivery = replace(trigger.meta, request_id=f'{notice.warning_id}-{id(notice)}')\n"
        "        outcome = self.handle_refund(replace(trigger, amount=left, meta=per_delivery), known=(record, None))\n"
        "    ",
        (f"{RADAR}::test_an_early_fraud_warning_refunds_once_under_replay_and_second_events",),
        write="radar.settle_fraud_notice (the order's full-refund key)",
        guards="an early fraud warning refunds the order once: replays, second events and the order's own "
        "cancellation make one refund",
    ),
    Mutant(
        "review-refund-not-adopted",
        f"{PKG}/radar.py",
        "        outcome = self.handle_refund(trigger, known=(record, existing), adopt=adopted)\n    ",
        "        outcome = self.handle_refund(trigger, known=(record, existing), adopt=None)\n    ",
        (f"{RADAR}::test_a_review_closed_as_refunded_as_fraud_publishes_stripes_refund_once",),
        write="radar._settle_review (Stripe's refund adopted as the order's full refund)",
        guards="a review closed as refunded as fraud publishes Stripe's refund once and never refunds again",
    ),
)
