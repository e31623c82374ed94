#!/usr/bin/env python3
"""``make mutants``: remove each guarded property once, in a copy of the code, and report whether a test caught it.

    tools/mutants.py [--fast] [--only NAME ...]

Each mutant is one textual change to ``lambda_src`` (it must match exactly once, so a refactoring that moves the
guarded line makes the tool fail loudly instead of testing nothing). The copy's ``lambda_src`` is put first on
``PYTHONPATH`` and the suites run from the copy against their own emulator, local Stripe and simulator.

A mutant is *caught* when pytest exits with 1 (tests failed); collection or usage errors (2-4) are reported as
errors, never as caught. ``--fast`` runs only the tests named for each mutant (what CI runs, about a minute);
without it each mutant runs the unit, integration and reliability suites.

Exit status: 0 when every mutant was caught, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = "lambda_src/novamart_payments"
SEMANTICS = "tests/integration/test_semantics.py"
GUARDS = "tests/integration/test_guards.py"
LATER = "tests/integration/test_later_outcomes.py"
ON_CALL = "tests/integration/test_on_call_truth.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]  # what --fast runs: the tests that must catch it


MUTANTS = (
    Mutant(
        "pending-claim-unconditional",
        f"{PKG}/repository.py",
        '        return self._put_new(self._payments, "paymentId", item, payment_from_item)\n\n    def block_payment',
        "        self.client.put_item(TableName=self._payments, Item=item)\n"
        "        return WriteResult(True, payment_from_item(item))\n\n    def block_payment",
        (f"{SEMANTICS}::test_redelivered_trigger_charges_once",),
    ),
    Mutant(
        "refund-ceiling-removed",
        f"{PKG}/repository.py",
        '"ConditionExpression": "#s = :succeeded AND refundedAmount <= :limit",',
        '"ConditionExpression": "#s = :succeeded",',
        (f"{SEMANTICS}::test_stale_read_cannot_refund_past_the_capture",),
    ),
    Mutant(
        "idempotency-key-includes-event-id",
        f"{PKG}/service.py",
        "        idempotency_key=domain.charge_key(trigger.order_id),",
        '        idempotency_key=f"{domain.charge_key(trigger.order_id)}:{trigger.meta.event_id}",',
        (f"{SEMANTICS}::test_gateway_keys_name_the_business_action_not_the_delivery",),
    ),
    Mutant(
        "outbound-validation-removed",
        f"{PKG}/publisher.py",
        "        validate_event(event)\n",
        "        pass\n",
        (f"{GUARDS}::test_outbound_events_are_validated_before_they_leave",),
    ),
    Mutant(
        "declined-refund-keeps-its-reservation",
        f"{PKG}/repository.py",
        '"ExpressionAttributeValues": {":amt": {"N": str(refund.amount.minor_units)}},',
        '"ExpressionAttributeValues": {":amt": {"N": "0"}},',
        (f"{GUARDS}::test_a_declined_refund_gives_its_reserved_amount_back",),
    ),
    Mutant(
        "cold-start-config-check-removed",
        f"{PKG}/handlers/_batch.py",
        "        get_config()  # fail the cold start",
        "        pass  # fail the cold start",
        (f"{GUARDS}::test_a_missing_setting_fails_the_cold_start_before_any_record",),
    ),
    Mutant(
        "event-bus-name-not-validated",
        f"{PKG}/config.py",
        'event_bus_name=_required(env, "EVENT_BUS_NAME", _BUS_NAME, default="default"),',
        'event_bus_name=env.get("EVENT_BUS_NAME") or "default",',
        ("tests/unit/test_config.py",),
    ),
    Mutant(
        "final-write-without-pending",
        f"{PKG}/repository.py",
        '" REMOVE openStatus, openSince",\n            "#s IN (:pending, :action)",',
        '" REMOVE openStatus, openSince",\n            "attribute_exists(paymentId)",',
        (f"{GUARDS}::test_the_final_write_only_finishes_a_pending_payment",),
    ),
    Mutant(
        "webhook-signature-not-verified",
        f"{PKG}/gateway/stripe_webhooks.py",
        "        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)",
        '        event = stripe.Event.construct_from(__import__("json").loads(payload), "")',
        (f"{LATER}::test_a_webhook_that_is_not_a_fresh_stripe_event_changes_nothing",),
    ),
    Mutant(
        "webhook-timestamp-not-checked",
        f"{PKG}/gateway/stripe_webhooks.py",
        "TOLERANCE_SECONDS = 300",
        "TOLERANCE_SECONDS = 10**9",
        (f"{LATER}::test_a_webhook_that_is_not_a_fresh_stripe_event_changes_nothing",),
    ),
    Mutant(
        "webhook-replays-not-remembered",
        f"{PKG}/notices.py",
        'ConditionExpression="attribute_not_exists(eventId) OR (#st = :processing AND leaseUntil < :now)",',
        'ConditionExpression="attribute_not_exists(eventId) OR #st <> :processing OR leaseUntil < :now",',
        (f"{LATER}::test_the_webhook_finishes_a_3ds_payment_exactly_once",),
    ),
    Mutant(
        "reconciliation-does-not-cancel-first",
        f"{PKG}/reconciliation.py",
        "    result = service.gateway.cancel_charge(record.intent_id)",
        '    result = GatewayResult(Outcome.DECLINED, record.intent_id, "payment_canceled", "not cancelled", "")',
        (f"{LATER}::test_an_outage_past_the_retry_horizon_fails_the_payment_once_nothing_was_charged",),
    ),
    Mutant(
        "waiting-payment-not-cancelled-with-its-order",
        f"{PKG}/domain.py",
        "        return RefundDecision(RefundAction.CANCEL_PAYMENT)",
        "        return RefundDecision(RefundAction.WAIT_FOR_PAYMENT)",
        (f"{LATER}::test_an_order_cancelled_while_waiting_for_the_customer_cancels_the_intent",),
    ),
    Mutant(
        "unknown-object-retried",
        f"{PKG}/gateway/stripe_gateway.py",
        '            if kinds.get("reading") and (err.code == "resource_missing" or err.http_status == 404):',
        "            if False:",
        (f"{ON_CALL}::test_a_signed_event_about_an_intent_stripe_does_not_have_is_acknowledged_and_counted",),
    ),
    Mutant(
        "refund-notices-settle-without-the-lease",
        f"{PKG}/notices.py",
        "    if not service.repository.take_refund_lease(refund.refund_id, now,",
        "    if False and not service.repository.take_refund_lease(refund.refund_id, now,",
        (f"{ON_CALL}::test_one_refund_change_described_by_two_notifications_is_published_and_counted_once",),
    ),
    Mutant(
        "pending-refunds-not-reconciled",
        f"{PKG}/reconciliation.py",
        "    for refund in repo.unfinished_refunds(plus(now, -ages.pending_after), batch):",
        "    for refund in repo.unfinished_refunds(plus(now, -ages.pending_after), 0)[:0]:",
        (f"{ON_CALL}::test_a_refund_left_pending_by_a_dead_lettered_trigger_ends_in_one_outcome_after_one_pass",),
    ),
    Mutant(
        "report-counts-failures-as-charged",
        f"{PKG}/reconciliation.py",
        '    if result.approved:\n        return "charged"\n    return f',
        '    if True:\n        return "charged"\n    return f',
        (f"{ON_CALL}::test_the_report_counts_an_expired_authentication_and_an_abandoned_outage_as_what_they_were",),
    ),
)
FULL = ("tests/unit", "tests/integration", "tests/reliability")


def copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def apply(dest: Path, mutant: Mutant) -> None:
    path = dest / mutant.file
    text = path.read_text()
    found = text.count(mutant.old)
    if found != 1:
        raise SystemExit(f"mutant {mutant.name}: the guarded text occurs {found} times in {mutant.file} (want 1)")
    path.write_text(text.replace(mutant.old, mutant.new))


def run(mutant: Mutant, fast: bool) -> tuple[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        dest = Path(tmp)
        copy_tree(dest)
        apply(dest, mutant)
        env = {**os.environ, "PYTHONPATH": f"{dest / 'lambda_src'}{os.pathsep}{dest}"}
        probe = [sys.executable, "-c", "import novamart_payments as p; print(p.__file__)"]
        imported = subprocess.run(probe, cwd=dest, env=env, capture_output=True, text=True).stdout.strip()
        if not imported.startswith(str(dest)):  # the suites would test the unmutated code
            raise SystemExit(f"mutant {mutant.name}: the copy imports {imported}, not the mutated code")
        targets = list(mutant.tests if fast else FULL)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *targets],
            cwd=dest,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
    verdict = {0: "NOT CAUGHT", 1: "caught"}.get(result.returncode, f"ERROR (pytest exit {result.returncode})")
    if result.returncode not in (0, 1):
        print(result.stdout[-1500:] + result.stderr[-1500:], file=sys.stderr)
    return verdict, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="only the tests named for each mutant (CI)")
    parser.add_argument("--only", nargs="*", default=None, help="mutant names")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if args.only is None or m.name in args.only]
    print(f"mutants: {len(chosen)} ({'named tests' if args.fast else 'unit + integration + reliability suites'})")
    missed = 0
    for i, mutant in enumerate(chosen, 1):
        verdict, seconds = run(mutant, args.fast)
        missed += verdict != "caught"
        print(f"  [{i}/{len(chosen)}] {mutant.name:<40} {verdict:<12} {seconds:5.1f} s", flush=True)
    print(f"{len(chosen) - missed} caught, {missed} not caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
