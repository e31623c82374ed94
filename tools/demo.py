#!/usr/bin/env python3
"""``make demo``: the whole payment service on this machine, end to end, from a fresh clone.

    tools/demo.py [--skip-apply] [--timeout 120] [--run-dir .run]

1. Starts the embedded emulator (moto) at ``AWS_ENDPOINT_URL`` unless one already answers there (then reuses it),
   and the local Stripe (localstripe behind its fault proxy, ``tools/stripe_local.py``) on ``STRIPE_PORT`` (8420).
2. Applies ``terraform/envs/local`` into it (``./tools/tf.sh apply-local``; ~2 minutes the first time).
3. Starts the local Lambda service (``tools/localsvc.py start``), which runs the deployed functions.
4. Sends orders through every path - payments in USD, JPY and KWD, a declined card, a duplicate delivery, a
   cancellation after payment, a partial refund, a cancellation before payment, an invalid event and a gateway
   that fails twice before accepting - by putting events on the bus, exactly as other services would. The
   functions charge through the local Stripe: the table shows Stripe's ids (``pi_…``, ``ch_…``, ``re_…``); the
   declined card is a Stripe test card and the outage is injected by the fault proxy in front of localstripe.
5. Waits (with a deadline) until the outcomes are there, and prints the payments, refunds and published events
   (each published event validated against its schema) with a verdict per case.

Exit status 0 when every expected outcome was observed, 1 otherwise. The emulator and the local Lambda service
keep running afterwards (``make check``, ``make doctor``, ``make seed``); ``make emulator-stop`` stops both.

With ``EMULATOR=ministack`` step 1 starts MiniStack instead (``tools/ministack.py``, reused if it answers) and
step 3 is skipped: MiniStack runs the functions itself. With ``EMULATOR=localstack`` steps 1 and 3 are skipped
(start LocalStack yourself, see docs/localstack.md). In both, redelivery waits for the queue's real visibility
timeout; the apply adds ``terraform/envs/local/fast-redelivery.tfvars`` (18 s), so the transient-failure and
invalid-event cases take about a minute.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from emulator import is_healthy, pid_alive, read_pid  # noqa: E402
from localsvc_lib import (  # noqa: E402
    AuditLog,
    PublishedEvent,
    StackInfo,
    client,
    discover_stack,
    emulator_kind,
    endpoint_from_env,
    format_money,
    format_table,
    payment_data,
    peek_queue,
    put_events,
    records_for_order,
    refund_data,
    region_from_env,
    stand_in_enabled,
    trigger_event,
    wait_until,
)
from stripe_local import DEFAULT_PORT, prepare_trigger, stripe_base_of  # noqa: E402
from stripe_local import is_healthy as stripe_is_healthy  # noqa: E402

Want = dict[str, int]
# Terraform output lines worth showing as progress (the plan itself is long; it is shown only on failure).
TF_PROGRESS = (
    ">> ",
    "Plan:",
    "Creation complete",
    "Modifications complete",
    "Destruction complete",
    "Still creating",
    "Apply complete",
    "No changes",
    "Error",
    "Warning",
)  # detail-type -> number of distinct published events


@dataclass
class Case:
    key: str
    title: str
    order_id: str
    first: list[dict[str, Any]]  # events sent in phase 1
    then: list[dict[str, Any]] = field(default_factory=list)  # events sent once phase 1's outcome is there
    first_want: Want = field(default_factory=dict)
    want: Want = field(default_factory=dict)
    checks: list[tuple[str, Callable[[list[PublishedEvent], list[dict[str, Any]]], bool]]] = field(default_factory=list)
    dead_letter: bool = False
    in_dlq: bool = False
    verdict: str = ""


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def amount_is(detail_type: str, minor: int, currency: str) -> tuple[str, Callable[..., bool]]:
    def check(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
        return any(
            e.detail_type == detail_type and e.data.get("amount") == {"minorUnits": minor, "currency": currency}
            for e in events
        )

    return f"{detail_type} for {format_money(minor, currency)}", check


def code_is(detail_type: str, code: str) -> tuple[str, Callable[..., bool]]:
    def check(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
        return any(e.detail_type == detail_type and e.data.get("code") == code for e in events)

    return f"{detail_type} code {code}", check


def one_payment_record(events: list[PublishedEvent], payments: list[dict[str, Any]]) -> bool:
    return len(payments) == 1


def build_cases(run: str) -> list[Case]:
    def oid(name: str) -> str:
        return f"demo-{run}-{name}"

    def pay(order_id: str, minor: int, currency: str, token: str = "pm_card_visa") -> dict[str, Any]:
        data = payment_data(order_id, minor, currency, token, f"cus-demo-{run}")
        return trigger_event("order.ready_for_payment", data, correlation_id=f"corr-{order_id}")

    def cancel(order_id: str, amount: tuple[int, str] | None = None) -> dict[str, Any]:
        reason = "Item returned" if amount else "Customer cancelled the order"
        request_id = f"rma-{order_id}" if amount else None
        return trigger_event(
            "order.cancelled",
            refund_data(order_id, reason, amount),
            correlation_id=f"corr-{order_id}",
            request_id=request_id,
        )

    duplicate = pay(oid("duplicate"), 2599, "USD")
    invalid = pay(oid("invalid"), 4999, "USD")
    invalid = copy.deepcopy(invalid)
    del invalid["detail"]["data"]["customerId"]
    return [
        Case(
            "usd",
            "Payment in USD (2 digits)",
            oid("usd"),
            [pay(oid("usd"), 4999, "USD")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 4999, "USD")],
        ),
        Case(
            "jpy",
            "Payment in JPY (0 digits)",
            oid("jpy"),
            [pay(oid("jpy"), 5400, "JPY")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 5400, "JPY")],
        ),
        Case(
            "kwd",
            "Payment in KWD (3 digits)",
            oid("kwd"),
            [pay(oid("kwd"), 12345, "KWD")],
            want={"payment.succeeded": 1},
            checks=[amount_is("payment.succeeded", 12345, "KWD")],
        ),
        Case(
            "decline",
            "Card declined",
            oid("decline"),
            [pay(oid("decline"), 3000, "EUR", "pm_card_chargeDeclined")],
            want={"payment.failed": 1},
            checks=[code_is("payment.failed", "card_declined")],
        ),
        Case(
            "duplicate",
            "Same trigger delivered twice",
            oid("duplicate"),
            [duplicate, duplicate],
            want={"payment.succeeded": 1},
            checks=[("one payment record", one_payment_record)],
        ),
        Case(
            "cancel",
            "Cancelled after payment",
            oid("cancel"),
            [pay(oid("cancel"), 4200, "USD")],
            then=[cancel(oid("cancel"))],
            first_want={"payment.succeeded": 1},
            want={"payment.succeeded": 1, "refund.succeeded": 1},
            checks=[amount_is("refund.succeeded", 4200, "USD")],
        ),
        Case(
            "partial",
            "Partial refund",
            oid("partial"),
            [pay(oid("partial"), 10000, "USD")],
            then=[cancel(oid("partial"), (2500, "USD"))],
            first_want={"payment.succeeded": 1},
            want={"payment.succeeded": 1, "refund.succeeded": 1},
            checks=[amount_is("refund.succeeded", 2500, "USD")],
        ),
        Case(
            "cancel-first",
            "Cancelled before payment",
            oid("cancel-first"),
            [cancel(oid("cancel-first"))],
            then=[pay(oid("cancel-first"), 1500, "USD")],
            first_want={"refund.failed": 1},
            want={"refund.failed": 1, "payment.failed": 1},
            checks=[code_is("refund.failed", "no_payment"), code_is("payment.failed", "order_cancelled")],
        ),
        Case(
            "invalid",
            "Invalid event (no customerId)",
            oid("invalid"),
            [invalid],
            want={},
            dead_letter=True,
        ),
        Case(
            "transient",
            "Gateway fails twice, then accepts",
            oid("transient"),
            [pay(oid("transient"), 6100, "USD", "pm_sim_transient2_visa")],
            want={"payment.succeeded": 1},
        ),
    ]


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.endpoint = endpoint_from_env()
        self.region = region_from_env()
        self.run_dir: Path = args.run_dir

    # ---- setup --------------------------------------------------------------------------------------------

    def emulator(self) -> None:
        if emulator_kind() == "ministack":
            self._ministack()
            return
        if not stand_in_enabled():
            step(f"LocalStack mode: using the LocalStack at {self.endpoint}")
            wait_until(lambda: self._localstack_up(), 10, f"LocalStack at {self.endpoint} (docs/localstack.md)")
            return
        step(f"Emulator at {self.endpoint}")
        if is_healthy(self.endpoint):
            print(f"    reusing the moto server already answering at {self.endpoint}")
            pid = read_pid(self.run_dir)
            if pid is None or not pid_alive(pid):
                print(
                    "    note: it was not started by tools/emulator.py; unless it runs with the patch described in\n"
                    "    docs/local-dev.md (One patch to moto), retried messages may reach the DLQ early"
                )
            return
        url = urlparse(self.endpoint)
        self._run(
            [
                sys.executable,
                str(HERE / "emulator.py"),
                "start",
                "--host",
                url.hostname or "127.0.0.1",
                "--port",
                str(url.port or 4566),
                "--run-dir",
                str(self.run_dir),
            ]
        )

    def _ministack(self) -> None:
        import ministack

        step(f"MiniStack at {self.endpoint} (runs the functions itself)")
        if ministack.is_healthy(self.endpoint):
            print(f"    reusing the MiniStack already answering at {self.endpoint}")
            return
        url = urlparse(self.endpoint)
        host, port = url.hostname or "127.0.0.1", str(url.port or 4566)
        self._run(
            [
                sys.executable,
                str(HERE / "ministack.py"),
                "start",
                "--host",
                host,
                "--port",
                port,
                "--run-dir",
                str(self.run_dir),
            ]
        )

    def local_stripe(self) -> None:
        """The Stripe-compatible server the functions of envs/local charge through (tools/stripe_local.py)."""
        api_base = f"http://127.0.0.1:{self.args.stripe_port}"
        step(f"Local Stripe (localstripe behind its fault proxy) at {api_base}")
        if stripe_is_healthy(api_base):
            print(f"    reusing the local Stripe already answering at {api_base}")
            return
        script = str(HERE / "stripe_local.py")
        self._run(
            [sys.executable, script, "start", "--port", str(self.args.stripe_port), "--run-dir", str(self.run_dir)]
        )

    def _localstack_up(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.endpoint.rstrip("/") + "/_localstack/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def apply(self) -> None:
        if self.args.skip_apply:
            step("Terraform apply skipped (--skip-apply)")
            return
        if not (ROOT / "build" / "lambda.zip").exists():
            raise SystemExit("build/lambda.zip is missing: run make package (make demo does it for you)")
        step("Applying terraform/envs/local (./tools/tf.sh apply-local; about 2 minutes on a fresh emulator)")
        started = time.monotonic()
        process = subprocess.Popen(
            [str(HERE / "tf.sh"), "apply-local"],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        lines: list[str] = []
        for raw in process.stdout:
            line = raw.rstrip()
            lines.append(line)
            if any(marker in line for marker in TF_PROGRESS):
                print(f"    tf | {line}", flush=True)
        if process.wait() != 0:
            print("    ... last lines of the terraform output:")
            for line in lines[-60:]:
                print(f"    tf | {line}")
            raise SystemExit(f"terraform apply failed (exit {process.returncode})")
        print(f"    applied in {time.monotonic() - started:.0f} s")

    def lambda_service(self) -> None:
        if not stand_in_enabled():
            step(f"Lambda runs inside {emulator_kind()}: no local Lambda service")
            return
        step("Local Lambda service (plays AWS Lambda for the emulator)")
        self._run([sys.executable, str(HERE / "localsvc.py"), "start", "--run-dir", str(self.run_dir)])

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, cwd=str(ROOT), text=True, capture_output=True)
        for line in (result.stdout + result.stderr).splitlines():
            print(f"    {line}")
        if result.returncode:
            raise SystemExit(f"{Path(argv[1]).name} {argv[2]} failed (exit {result.returncode})")

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

        staged = [c for c in cases if c.then]
        self._wait(
            audit, "first outcomes of the two-step cases", lambda c: not c.then or self._has(audit, c, c.first_want)
        )
        for case in staged:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-apply", action="store_true", help="the stack is already applied")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the outcomes")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    demo = Demo(args)
    print(f"NovaMart payments demo ({emulator_kind()} at {demo.endpoint}, region {demo.region})")
    demo.emulator()
    demo.local_stripe()
    demo.apply()
    demo.lambda_service()
    return demo.orders()


if __name__ == "__main__":
    sys.exit(main())
