"""``make demo``: the whole payment service on this machine, end to end, from a fresh clone.

    python -m tools.devstack demo [--skip-apply] [--timeout 120] [--run-dir .run]

1. Starts the embedded emulator (moto) at ``AWS_ENDPOINT_URL`` unless one already answers there (then reuses it),
   and the local Stripe (localstripe behind its fault proxy, ``stripe_local``) on ``STRIPE_PORT`` (8420).
2. Applies ``terraform/envs/local`` into it (``./tools/tf.sh apply-local``; ~2 minutes the first time).
3. Starts the local Lambda service (``python -m tools.devstack dev start``), which runs the deployed functions.
4. Sends orders through every path - payments in USD, JPY and KWD, a declined card, a duplicate delivery, a
   cancellation after payment, a partial refund, a cancellation before payment, an invalid event, a card that asks
   for 3-D Secure (the demo then authenticates as the customer would, and Stripe's webhook finishes the payment)
   and a gateway that fails twice before accepting - by putting events on the bus, exactly as other services would. The
   functions charge through the local Stripe: the table shows Stripe's ids (``pi_…``, ``ch_…``, ``re_…``); the
   declined card is a Stripe test card and the outage is injected by the fault proxy in front of localstripe.
5. Waits (with a deadline) until the outcomes are there, and prints the payments, refunds and published events
   (each published event validated against its schema) with a verdict per case.

Exit status 0 when every expected outcome was observed, 1 otherwise. The emulator and the local Lambda service
keep running afterwards (``make check``, ``make doctor``, ``make seed``); ``make emulator-stop`` stops both.

With ``EMULATOR=ministack`` step 1 starts MiniStack instead (``tools.devstack.ministack``, reused if it answers) and
step 3 is skipped: MiniStack runs the functions itself. With ``EMULATOR=localstack`` steps 1 and 3 are skipped
(start LocalStack yourself, see docs/localstack.md). In both, redelivery waits for the queue's real visibility
timeout; the apply adds ``terraform/envs/local/fast-redelivery.tfvars`` (18 s), so the transient-failure and
invalid-event cases take about a minute.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.devstack.audit import AuditLog, PublishedEvent, peek_queue
from tools.devstack.aws import client, emulator_kind, wait_until
from tools.devstack.commands.demo_cases import Case, Want, build_cases
from tools.devstack.commands.demo_setup import DemoStack, step
from tools.devstack.events import put_events
from tools.devstack.output import format_money, format_table
from tools.devstack.processes import ROOT
from tools.devstack.stack import StackInfo, discover_stack
from tools.devstack.stripe_local import DEFAULT_PORT, LocalStripe, prepare_trigger, stripe_base_of
from tools.devstack.tables import records_for_order
from tools.devstack.urls_and_schedules import connect_webhooks, webhook_endpoint


class Demo(DemoStack):
    """Sends the cases' orders, waits for their outcomes and prints the report (setup: ``DemoStack``)."""

    # ---- the orders ---------------------------------------------------------------------------------------

    def orders(self) -> int:
        stack: StackInfo = wait_until(
            lambda: (s := discover_stack(self.endpoint, self.region)) and len(s.mappings) >= 2 and s,
            30,
            "the deployed stack (two SQS event-source mappings)",
            0.5,
        )
        assert stack.event_bus and stack.audit_queue_url, "the stack has no bus or no audit queue"
        events = client("events", self.endpoint, self.region)
        self.sqs = client("sqs", self.endpoint, self.region)
        self.ddb = client("dynamodb", self.endpoint, self.region)
        self.stack = stack
        audit = AuditLog(self.endpoint, self.region, stack.audit_queue_url)
        audit.poll()  # earlier runs' events: read and set aside (cases match on their own order ids)
        run = uuid.uuid4().hex[:6]
        cases = build_cases(run)
        self.cases = cases
        stripe_base = stripe_base_of(stack.functions)
        if emulator_kind() != "moto":  # the emulator serves the webhook URL itself: point the local Stripe at it
            found = webhook_endpoint(self.endpoint, self.region, stack)
            if found is not None:
                connect_webhooks(self.endpoint, self.region, *found)
        if stripe_base is not None:
            step(f"Stripe gateway: the functions charge through the local Stripe at {stripe_base}")
            print("    creating the test cards' payment methods there, and the gateway outage of the transient case")
            for case in cases:
                for event in case.first:
                    prepare_trigger(event, stripe_base)

        step(f"Sending {len(cases)} orders through every path (run {run}, bus {stack.event_bus})")
        for i, case in enumerate(cases, 1):
            put_events(events, stack.event_bus, case.first)
            kinds = ", ".join(e["detail-type"] for e in case.first)
            print(f"    [{i:>2}/{len(cases)}] {case.title:<36} {case.order_id:<28} sent {kinds}", flush=True)

        staged = [c for c in cases if c.then or c.authenticate]
        self._wait(
            audit,
            "first outcomes of the two-step cases",
            lambda c: not (c.then or c.authenticate) or self._has(audit, c, c.first_want),
        )
        for case in staged:
            if case.authenticate:  # the customer completes 3-D Secure; Stripe's webhook finishes the payment
                (record,) = records_for_order(self.ddb, stack.payment_table or "", case.order_id)
                LocalStripe(stripe_base or "").authenticate(str(record["intentId"]), success=True)
                print(f"    {case.title:<43} {case.order_id:<28} then the customer authenticated", flush=True)
                continue
            put_events(events, stack.event_bus, case.then)
            kinds = ", ".join(e["detail-type"] for e in case.then)
            print(f"    {case.title:<43} {case.order_id:<28} then sent {kinds}", flush=True)

        self._wait(audit, "every outcome", lambda c: self._complete(audit, c))
        # Outcomes are in; let the queues drain so that a duplicate outcome would also have arrived.
        wait_until(self._queues_idle, self.args.timeout, "the function queues to drain", 0.3)
        audit.poll()
        return self.report(audit, cases)

    def _has(self, audit: AuditLog, case: Case, want: Want) -> bool:
        got = self._distinct(audit, case)
        return all(sum(1 for e in got if e.detail_type == t) >= n for t, n in want.items())

    def _complete(self, audit: AuditLog, case: Case) -> bool:
        if case.dead_letter and not case.in_dlq:
            case.in_dlq = any(
                peek_queue(self.sqs, m.queue.dlq_url, lambda body: case.order_id in body, remove=True)
                for m in self.stack.mappings
                if m.queue.dlq_url
            )
        return self._has(audit, case, case.want) and (case.in_dlq or not case.dead_letter)

    def _distinct(self, audit: AuditLog, case: Case) -> list[PublishedEvent]:
        seen: dict[str, PublishedEvent] = {}
        for e in audit.for_order(case.order_id):
            seen.setdefault(str(e.metadata.get("eventId")), e)
        return list(seen.values())

    def _queues_idle(self) -> bool:
        for m in self.stack.mappings:
            attrs = self.sqs.get_queue_attributes(QueueUrl=m.queue.url, AttributeNames=["All"])["Attributes"]
            if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]):
                return False
        return True

    def _wait(self, audit: AuditLog, what: str, done: Callable[[Case], bool]) -> None:
        print(f"    waiting for {what} (deadline {self.args.timeout:.0f} s)", flush=True)
        started = time.monotonic()
        last = -1
        while True:
            audit.poll()
            finished = sum(1 for c in self.cases if done(c))
            if finished != last:
                print(f"      {finished:>2}/{len(self.cases)} orders there after {time.monotonic() - started:4.1f} s")
                last = finished
            if finished == len(self.cases):
                return
            if time.monotonic() - started > self.args.timeout:
                missing = [c.key for c in self.cases if not done(c)]
                print(f"      deadline passed; still missing: {', '.join(missing)}")
                return
            time.sleep(0.25)

    # ---- the report ---------------------------------------------------------------------------------------

    def report(self, audit: AuditLog, cases: list[Case]) -> int:
        payment_rows: list[dict[str, Any]] = []
        refund_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        failures = 0
        for case in cases:
            payments = records_for_order(self.ddb, self.stack.payment_table or "", case.order_id)
            refunds = records_for_order(self.ddb, self.stack.refund_table or "", case.order_id)
            for p in payments:
                cur = str(p.get("currency", ""))
                refunded = p.get("refundedAmount", p.get("refundedMinorUnits"))
                payment_rows.append(
                    {
                        "case": case.key,
                        "status": p.get("status"),
                        "amount": format_money(int(p["amount"]), cur) if "amount" in p else None,
                        "refunded": format_money(int(refunded), cur) if refunded else None,
                        "code": p.get("failureCode"),
                        "intent": p.get("intentId"),
                        "transactionId": p.get("transactionId"),
                    }
                )
            for r in refunds:
                refund_rows.append(
                    {
                        "case": case.key,
                        "status": r.get("status"),
                        "amount": format_money(int(r["amount"]), str(r["currency"])) if "amount" in r else None,
                        "code": r.get("failureCode"),
                        "transactionId": r.get("transactionId"),
                    }
                )
            published = audit.for_order(case.order_id)
            for e in published:
                amount = e.data.get("amount") or {}
                event_rows.append(
                    {
                        "case": case.key,
                        "detail-type": e.detail_type,
                        "amount": format_money(amount["minorUnits"], amount["currency"]) if amount else None,
                        "code": e.data.get("code"),
                        "eventId": str(e.metadata.get("eventId"))[:8],
                        "causationId": str(e.metadata.get("causationId"))[:8],
                        "schema": "valid" if not e.violations else "INVALID: " + "; ".join(e.violations),
                    }
                )
            case.verdict, problems = self._verdict(case, audit, payments, refunds)
            failures += bool(problems)

        step("Payments")
        print(format_table(payment_rows, ["case", "status", "amount", "refunded", "code", "intent", "transactionId"]))
        step("Refunds")
        print(format_table(refund_rows, ["case", "status", "amount", "code", "transactionId"]))
        step("Published events (read from the audit queue, each validated against its schema)")
        print(format_table(event_rows, ["case", "detail-type", "amount", "code", "eventId", "causationId", "schema"]))
        step("Verdict")
        print(
            format_table(
                [{"case": c.key, "scenario": c.title, "result": c.verdict} for c in cases],
                ["case", "scenario", "result"],
            )
        )
        if failures:
            print(f"\n{failures} of {len(cases)} cases did not produce the expected outcome (logs: {self.run_dir}/)")
            return 1
        print(f"\nAll {len(cases)} cases produced the expected outcome.")
        print("Next: make check (records), make doctor (health), make seed (sample events), make emulator-stop")
        return 0

    def _verdict(
        self, case: Case, audit: AuditLog, payments: list[dict[str, Any]], refunds: list[dict[str, Any]]
    ) -> tuple[str, list[str]]:
        distinct = self._distinct(audit, case)
        counts: dict[str, int] = {}
        for e in distinct:
            counts[e.detail_type] = counts.get(e.detail_type, 0) + 1
        problems = []
        if counts != case.want:
            problems.append(f"published {counts or 'nothing'}, expected {case.want or 'nothing'}")
        for label, check in case.checks:
            if not check(distinct, payments):
                problems.append(f"missing {label}")
        if any(e.violations for e in audit.for_order(case.order_id)):
            problems.append("a published event violates its schema")
        if case.dead_letter:
            if not case.in_dlq:
                problems.append("not in the DLQ")
            if payments or refunds:
                problems.append("records were written")
        if problems:
            return "FAIL: " + "; ".join(problems), problems
        summary = ", ".join(f"{n} x {t}" for t, n in sorted(counts.items())) or "nothing published"
        if case.dead_letter:
            summary += ", nothing recorded, dead-lettered after maxReceiveCount (removed from the DLQ)"
        return f"PASS ({summary})", []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-apply", action="store_true", help="the stack is already applied")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the outcomes")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", DEFAULT_PORT)))


def execute(args: argparse.Namespace) -> int:
    demo = Demo(args)
    print(f"NovaMart payments demo ({emulator_kind()} at {demo.endpoint}, region {demo.region})")
    demo.emulator()
    demo.local_stripe()
    demo.apply()
    demo.lambda_service()
    return demo.orders()
