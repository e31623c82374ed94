"""One PASS/FAIL line per health check of the local stack (``make doctor``); exit 1 if any check fails.

    python -m tools.devstack doctor [--run-dir .run]

Checks, in order: the emulator answers; both functions exist with a handler; both tables are ACTIVE with their
orderId-index; the bus exists and every rule on it targets a queue that exists; each function queue has a DLQ
redrive; each SQS event-source mapping is enabled with ReportBatchItemFailures; the audit queue exists; every
DLQ holds only expected dead letters; and (moto only) the local Lambda service is running. Everything is read
from the emulator at ``AWS_ENDPOINT_URL``; with ``EMULATOR=ministack`` or ``localstack`` the emulator's
LocalStack-compatible health route is used instead of moto's.

Dead letters: an event that breaks its schema ends in the DLQ by design (the handler rejects it, SQS gives up
after maxReceiveCount). Such contract rejections are counted and aged, and pass; anything else in a DLQ (a valid
trigger that kept failing, or anything in the audit tap's DLQ) fails the check, with counts and the oldest age.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.devstack.aws import (
    PAYMENT_FUNCTION,
    REFUND_FUNCTION,
    client,
    emulator_kind,
    endpoint_from_env,
    region_from_env,
    stand_in_enabled,
)
from tools.devstack.moto_server import is_healthy
from tools.devstack.processes import pid_alive, read_pid
from tools.devstack.stack import StackInfo, discover_stack


class Doctor:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, fn: Callable[[], str]) -> bool:
        try:
            detail = fn()
            ok = True
        except Exception as exc:
            detail = str(exc) or type(exc).__name__
            ok = False
        self.failed += 0 if ok else 1
        print(f"{'PASS' if ok else 'FAIL'}  {name:<34} {detail}")
        return ok


def localstack_healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + "/_localstack/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _age(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 120
        else f"{seconds / 60:.0f} min"
        if seconds < 7200
        else f"{seconds / 3600:.0f} h"
    )


def is_contract_rejection(body: str) -> bool:
    """True when the dead letter is an event that breaks its schema: the designed end of an invalid trigger."""
    from novamart_payments.contracts import ContractViolation, validate_event
    from novamart_payments.envelope import parse_body

    try:
        validate_event(parse_body(body))  # what the handlers do before anything else
    except ContractViolation:
        return True
    return False


def dead_letters(sqs: Any, url: str, limit: int = 500) -> list[tuple[str, float]]:
    """(body, age in seconds) of the messages in a DLQ, left in place (hidden while read, then visible again)."""
    seen: list[dict[str, Any]] = []
    while len(seen) < limit:
        got = (
            sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["SentTimestamp"]
            ).get("Messages")
            or []
        )
        if not got:
            break
        seen += got
    now = time.time()
    for message in seen:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [(m["Body"], now - int(m["Attributes"]["SentTimestamp"]) / 1000) for m in seen]


def require(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))


def execute(args: argparse.Namespace) -> int:
    endpoint, region = endpoint_from_env(), region_from_env()
    doc = Doctor()

    def emulator_up() -> str:
        healthy = is_healthy(endpoint) if emulator_kind() == "moto" else localstack_healthy(endpoint)
        require(healthy, f"nothing answers at {endpoint} (start the stack: make dev)")
        return f"{emulator_kind()} at {endpoint}"

    if not doc.check("emulator up", emulator_up):
        print("(the other checks need the emulator)")
        return 1

    stack_box: dict[str, StackInfo] = {}

    def stack_read() -> str:
        stack_box["s"] = discover_stack(endpoint, region)
        return f"{len(stack_box['s'].functions)} functions, {len(stack_box['s'].mappings)} SQS mappings"

    if not doc.check("stack readable", stack_read):
        return 1
    stack = stack_box["s"]
    ddb, sqs, events = (client(s, endpoint, region) for s in ("dynamodb", "sqs", "events"))

    def functions() -> str:
        missing = [f for f in (PAYMENT_FUNCTION, REFUND_FUNCTION) if f not in stack.functions]
        require(not missing, f"missing {', '.join(missing)} (make dev)")
        return ", ".join(f"{f} -> {stack.functions[f].handler}" for f in (PAYMENT_FUNCTION, REFUND_FUNCTION))

    doc.check("functions", functions)

    def tables() -> str:
        names = [t for t in (stack.payment_table, stack.refund_table) if t]
        require(len(names) == 2, "PAYMENT_TABLE_NAME / REFUND_TABLE_NAME not set on the functions")
        for name in names:
            table = ddb.describe_table(TableName=name)["Table"]
            require(table["TableStatus"] == "ACTIVE", f"{name} is {table['TableStatus']}")
            indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
            require("orderId-index" in indexes, f"{name} has no orderId-index")
        return ", ".join(f"{n} ACTIVE" for n in names)

    doc.check("tables", tables)

    def rules() -> str:
        require(stack.event_bus, "EVENT_BUS_NAME not set on the functions")
        events.describe_event_bus(Name=stack.event_bus)
        require(stack.rules, f"no rules on bus {stack.event_bus}")
        queue_targets = 0
        for rule in stack.rules:
            require(rule.get("State") == "ENABLED", f"rule {rule['Name']} is {rule.get('State')}")
            require(rule["Targets"], f"rule {rule['Name']} has no target")
            for target in rule["Targets"]:
                if ":sqs:" in target["Arn"]:
                    name = target["Arn"].rsplit(":", 1)[1]
                    sqs.get_queue_url(QueueName=name)
                    queue_targets += 1
        mapped = {m.queue.arn for m in stack.mappings}
        targeted = {t["Arn"] for r in stack.rules for t in r["Targets"]}
        require(mapped <= targeted, f"no rule delivers to {sorted(mapped - targeted)}")
        return f"{len(stack.rules)} rules on {stack.event_bus}, {queue_targets} queue targets"

    doc.check("rules", rules)

    def queues() -> str:
        require(len(stack.mappings) >= 2, "fewer than two function queues are mapped")
        for m in stack.mappings:
            require(m.queue.dlq_url and m.queue.max_receive_count, f"{m.queue.arn} has no redrive policy")
        require(stack.audit_queue_url, "no audit queue (enable_audit_tap = false?)")
        return ", ".join(
            f"{m.queue.arn.rsplit(':', 1)[1]} (maxReceiveCount {m.queue.max_receive_count})" for m in stack.mappings
        )

    doc.check("queues", queues)

    def mappings() -> str:
        for fn in (PAYMENT_FUNCTION, REFUND_FUNCTION):
            mine = [m for m in stack.mappings if m.function.name == fn]
            require(mine, f"no SQS mapping for {fn}")
            for m in mine:
                require(m.enabled, f"mapping {m.uuid} of {fn} is disabled")
                require(m.report_batch_item_failures, f"mapping {m.uuid} of {fn} lacks ReportBatchItemFailures")
        return ", ".join(f"{m.function.name} batch {m.batch_size}" for m in stack.mappings)

    doc.check("event-source mappings", mappings)

    def dlqs() -> str:
        function_dlqs = {m.queue.dlq_url for m in stack.mappings if m.queue.dlq_url}
        require(function_dlqs, "no function DLQs found (make dev)")
        audit_dlqs: set[str] = set()
        if stack.audit_queue_url:
            attrs = sqs.get_queue_attributes(QueueUrl=stack.audit_queue_url, AttributeNames=["RedrivePolicy"])
            policy = json.loads(attrs["Attributes"].get("RedrivePolicy") or "{}")
            if policy.get("deadLetterTargetArn"):
                name = policy["deadLetterTargetArn"].rsplit(":", 1)[1]
                audit_dlqs.add(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        expected, unexpected = [], []
        for url in sorted(function_dlqs | audit_dlqs):
            letters = dead_letters(sqs, url)
            rejected = [age for body, age in letters if url in function_dlqs and is_contract_rejection(body)]
            other = [age for body, age in letters if not (url in function_dlqs and is_contract_rejection(body))]
            name = url.rsplit("/", 1)[1]
            if rejected:
                expected.append(f"{name}: {len(rejected)} contract rejection(s), oldest {_age(max(rejected))}")
            if other:
                unexpected.append(f"{name}: {len(other)} unexpected, oldest {_age(max(other))}")
        require(
            not unexpected,
            "; ".join(unexpected + expected) + " (see the function's log; redrive once the cause is fixed)",
        )
        if expected:
            return "only expected dead letters: " + "; ".join(expected)
        return f"{len(function_dlqs | audit_dlqs)} DLQs empty"

    doc.check("dead-letter queues", dlqs)

    if stand_in_enabled():

        def local_service() -> str:
            pid = read_pid(args.run_dir, "localsvc.pid")
            require(pid is not None and pid_alive(pid), "not running: python -m tools.devstack dev start (or make dev)")
            return f"pid {pid}, log {args.run_dir / 'localsvc.log'}"

        doc.check("local Lambda service", local_service)

    print(f"{'all checks passed' if not doc.failed else f'{doc.failed} check(s) failed'}")
    return 1 if doc.failed else 0
