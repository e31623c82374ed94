"""The mutants of issue 22 (what on-call reads is true), kept beside ``tools/mutant_catalogue.py`` (which holds the
rest, under the tools' 400-line limit); ``tools/mutants.py`` runs both."""

from __future__ import annotations

from tools.mutant_catalogue import PKG, Mutant

ON_CALL = "tests/integration/test_on_call_truth.py"

ON_CALL_MUTANTS = (
    Mutant(
        "unknown-object-retried",
        f"{PKG}/gateway/stripe_errors.py",
        '        if kinds.get("reading") and (err.code == "resource_missing" or err.http_status == 404):',
        "        if False:",
        (f"{ON_CALL}::test_a_signed_event_about_an_intent_stripe_does_not_have_is_acknowledged_and_counted",),
        write="stripe_errors.answer_for (a read answered 404)",
        guards="a permanent answer is acknowledged and counted, never retried (webhook 2xx, no ERROR)",
    ),
    Mutant(
        "refund-notices-settle-without-the-lease",
        f"{PKG}/settlement.py",
        "            if not self._repo.take_refund_lease(refund.refund_id, now,",
        "            if False and not self._repo.take_refund_lease(refund.refund_id, now,",
        (f"{ON_CALL}::test_one_refund_change_described_by_two_notifications_is_published_and_counted_once",),
        write="settlement._settle_refund (repository.take_refund_lease)",
        guards="one refund change is published and counted once, however many notifications describe it",
    ),
    Mutant(
        "pending-refunds-not-reconciled",
        f"{PKG}/reconciliation.py",
        "    for refund in repo.unfinished_refunds(plus(now, -ages.pending_after), batch):",
        "    for refund in repo.unfinished_refunds(plus(now, -ages.pending_after), 0)[:0]:",
        (f"{ON_CALL}::test_a_refund_left_pending_by_a_dead_lettered_trigger_ends_in_one_outcome_after_one_pass",),
        write="Reconciliation.reconcile",
        guards="a refund left PENDING ends in one outcome, matching the gateway",
    ),
    Mutant(
        "report-counts-failures-as-charged",
        f"{PKG}/reconciliation.py",
        '    if result.approved:\n        return "charged"\n    return f',
        '    if True:\n        return "charged"\n    return f',
        (f"{ON_CALL}::test_the_report_counts_an_expired_authentication_and_an_abandoned_outage_as_what_they_were",),
        write="reconciliation._label",
        guards="the reconciliation report names each outcome by what it was",
    ),
)
