"""``docs/runbook.md``: one row per alarm, keyed by the alarm's name as the page arrives, derived from the Terraform
alarm definitions (``terraform/modules/alarms`` as ``terraform/modules/service`` calls it, with envs/aws's values).

The names are not listed by hand anywhere: every function, queue and record-metric alarm the Terraform makes gets a
row, and an alarm this module has no words for fails the generation (so ``make docs-check`` fails) instead of
leaving a page without a row. Each alarm's description carries the link to its row (``runbook_url#<key>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.reliability.terraform_values import TERRAFORM, Module

#: Where the rows live; the alarms' descriptions link here (``runbook_url`` in Terraform, this path by default).
RUNBOOK = "docs/runbook.md"


@dataclass(frozen=True)
class Alarm:
    key: str  # the alarm name without the prefix, also the row's anchor
    name: str  # as it arrives: <name_prefix>-<key>
    kind: str  # function_errors, function_throttles, function_duration, dlq_messages, queue_oldest_message, ...
    target: str  # function key, queue key or record alarm name
    metric: str


def _service() -> Module:
    return Module(TERRAFORM / "envs" / "aws").child("service")


def _suffixes(alarms: Module, local: str) -> list[str]:
    """The alarm keys a local of the alarms module makes per item, e.g. ``${key}-errors`` -> ``errors``."""
    return re.findall(r"\$\{key\}-([a-z-]+)", repr(alarms.locals[local]))


def alarms() -> list[Alarm]:
    """Every alarm the Terraform makes, in the order the runbook shows them."""
    service = _service()
    module = service.child("alarms")
    prefix = str(service.var("name_prefix"))
    functions = [*service.locals["functions"], *service.locals["later_functions"]]
    queues = list(service.locals["functions"])
    if "audit" in repr(service.module_call("alarms")["queues"]):  # when the audit tap is on (envs/local)
        queues.append("audit")
    # Every alarm comes from these locals of the one alarm resource: anything else would be a page with no row.
    merged = set(re.findall(r"local\.(\w+)", repr(module.locals["alarms"])))
    if merged != {"function_alarms", "dlq_alarms", "queue_alarms", "record_alarms"}:
        raise ValueError(f"terraform/modules/alarms: alarms merges {sorted(merged)}; teach tools/docgen/runbook.py")
    elsewhere = [
        str(tf.relative_to(TERRAFORM))
        for tf in TERRAFORM.rglob("*.tf")
        if 'resource "aws_cloudwatch_metric_alarm"' in tf.read_text(encoding="utf-8") and tf.parent.name != "alarms"
    ]
    if elsewhere:
        raise ValueError(f"alarms outside terraform/modules/alarms have no runbook rows: {elsewhere}")
    per_item = {"function_alarms": functions, "dlq_alarms": queues, "queue_alarms": queues}
    found: list[Alarm] = []
    for local, targets in per_item.items():
        for suffix in _suffixes(module, local):
            kind = _KIND_OF_SUFFIX[suffix]
            for target in targets:
                key = f"{target}-{suffix}"
                found.append(Alarm(key, f"{prefix}-{key}", kind, target, _METRIC_OF_KIND[kind]))
    if "record-${name}" not in repr(module.locals["record_alarms"]):
        raise ValueError("terraform/modules/alarms: record alarms are no longer keyed record-<name>; update runbook.py")
    for name, spec in service.module_call("alarms")["record_metric_alarms"].items():
        key = f"record-{name}"
        found.append(Alarm(key, f"{prefix}-{key}", "record_metric", name, str(spec["metric"]).strip('"')))
    return found


_KIND_OF_SUFFIX = {
    "errors": "function_errors",
    "throttles": "function_throttles",
    "duration-near-timeout": "function_duration",
    "dlq-not-empty": "dlq_messages",
    "oldest-message-age": "queue_oldest_message",
}
_METRIC_OF_KIND = {
    "function_errors": "AWS/Lambda Errors",
    "function_throttles": "AWS/Lambda Throttles",
    "function_duration": "AWS/Lambda Duration",
    "dlq_messages": "AWS/SQS ApproximateNumberOfMessagesVisible",
    "queue_oldest_message": "AWS/SQS ApproximateAgeOfOldestMessage",
}

# --- the words: what it means, how to confirm, what to do (with commands) -----------------------------------

_FUNCTION = {
    "payment": "novamart-payment-handler",
    "refund": "novamart-refund-handler",
    "webhooks": "novamart-payment-webhooks",
    "reconciler": "novamart-payment-reconciler",
}


def _logs(fn: str, pattern: str) -> str:
    return f"`aws logs tail /aws/lambda/{fn} --since 30m --filter-pattern '{pattern}'`"


def _function_row(alarm: Alarm, names: dict[str, str]) -> tuple[str, str, str]:
    fn = names[alarm.target]
    if alarm.kind == "function_errors":
        return (
            f"`{fn}` failed a whole invocation (a crash, a timeout, a configuration error at cold start); a failed "
            "record inside a batch is not counted here (see the record alarms). SQS redelivers the batch; nothing "
            "is lost.",
            f"{_logs(fn, '?ERROR ?Task timed out')}; a cold-start error names the missing setting.",
            "A configuration error after a deploy: fix the variable and `make deploy`, or roll back. A timeout: see "
            f"`{alarm.target}-duration-near-timeout`. Records that ran out of receives are in the DLQ: "
            "`make redrive QUEUE=...` once fixed.",
        )
    if alarm.kind == "function_throttles":
        return (
            f"`{fn}` reached its reserved concurrency; Lambda refused invocations. Messages wait in their queue "
            "(nothing is lost); webhooks get a 429 and Stripe retries them.",
            f"`aws lambda get-function-concurrency --function-name {fn}` and the queue's age (`*-oldest-message-age`).",
            "A burst is harmless. Sustained: the gateway is the limit (docs/performance.md); raise "
            "`reserved_concurrency` in Terraform only with Stripe's rate limit in mind.",
        )
    return (
        f"`{fn}` ran close to its timeout: the gateway or AWS answers slowly, and the next step is a timeout "
        "(a whole-batch retry).",
        f"{_logs(fn, 'REPORT')} (Duration) and Stripe's status page; `TimeGuardDeferred` counts records deferred "
        "for want of time.",
        "A slow gateway: wait, records are retried within the retry horizon. After a change of the batch size or "
        "the timeout: restore the Terraform values (`tests/reliability/test_budget.py` checks the budget).",
    )


def _queue_row(alarm: Alarm) -> tuple[str, str, str]:
    queue = alarm.target
    if alarm.kind == "dlq_messages":
        if queue == "audit":
            return (
                "The audit tap's queue could not take published events (EventBridge's retries ran out); only the "
                "audit copy is affected, consumers got theirs.",
                "`aws sqs get-queue-attributes --queue-url <novamart-payments-audit-dlq url> --attribute-names All`",
                "Fix the audit queue's policy or key, then move the messages back with the SQS console's DLQ "
                "redrive; or replay the window from the archive (`make replay FROM=... TO=...`).",
            )
        return (
            f"A {queue} trigger used all its receives and was dead-lettered: a contract violation, a bug, or a "
            "gateway outage longer than the retry horizon. Nothing was lost; nothing more happens until it is "
            "redriven.",
            f"`make redrive QUEUE={queue} DRY_RUN=1` (count, ages, event types, order ids; moves nothing); the "
            "logs by message id say why.",
            f"Fix the cause, then `make redrive QUEUE={queue}`. Always safe: a redriven trigger is claimed by order "
            "(never charged or refunded twice). After an outage nothing is needed: reconciliation has already "
            "finished the payment or refund, and a later redrive changes nothing.",
        )
    if queue == "audit":
        return (
            "Nobody reads the audit tap's queue (it is for whoever audits published events).",
            "`aws sqs get-queue-attributes --queue-url <novamart-payments-audit url> "
            "--attribute-names ApproximateNumberOfMessages`",
            "Nothing for the service; tell the audit queue's reader.",
        )
    fn = _FUNCTION[queue]
    return (
        f"The {queue} queue's oldest message is older than the threshold: `{fn}` is not keeping up or not running.",
        f"`aws lambda list-event-source-mappings --function-name {fn}` (State: Enabled?) and the function's "
        f"`{queue}-errors` / `{queue}-throttles` alarms.",
        "A disabled mapping: enable it (`terraform apply`). Throttles or errors: see those rows. A gateway outage: "
        "messages back off per message and wait; nothing to do unless it lasts past the retry horizon.",
    )


_UNFINISHED_QUERY = (
    "`aws dynamodb query --table-name {table} --index-name unfinished --key-condition-expression 'openStatus = :s' "
    '--expression-attribute-values \'{{":s":{{"S":"{status}"}}}}\'`'
)

_RECORD_ROWS: dict[str, tuple[str, str, str]] = {
    "validation-rejected": (
        "An event broke its contract and was refused before anything happened; it is retried until its receives "
        "run out, then dead-lettered.",
        "The log line `event rejected: schema violation` names the JSON pointers (never the values).",
        "Tell the producing team (orders or inventory). Their corrected event is a new event; drop the bad one "
        "from the DLQ (`make redrive` would only refuse it again).",
    ),
    "transient-retries": (
        "Many records met a gateway or AWS outage and wait for redelivery (each backs off on its own).",
        "Stripe's status page; `aws logs tail ... --filter-pattern 'gateway unavailable'`.",
        "Nothing while it lasts less than the retry horizon. Longer: triggers dead-letter and reconciliation "
        "finishes their payments and refunds (`gateway_unavailable`); no redrive is needed.",
    ),
    "backoff-not-set": (
        "A failed record's per-message backoff could not be set (`ChangeMessageVisibility` refused: the role, the "
        "queue's key, SQS throttling). Nothing is lost: the message comes back after the queue's visibility "
        "timeout (6 x the Lambda timeout) instead of seconds.",
        "The log line `backoff not set` names the error; `make test-iam` checks the role's `OwnMessageBackoff` "
        "statement against the queue as applied.",
        "Restore the role's `sqs:ChangeMessageVisibility` on its own queue (modules/function) or the queue key's "
        "use through SQS; records already waiting finish by themselves after the visibility timeout.",
    ),
    "time-guard-deferred": (
        "A record was left to redelivery for want of invocation time: batch size x record budget no longer fits "
        "the Lambda timeout.",
        "`make docs-check` and `tests/reliability/test_budget.py` compare the Terraform values with the budget.",
        "Restore the Terraform timeout / batch size (docs/design.md, time budget).",
    ),
    "gateway-auth-error": (
        "Stripe refused our key (wrong, expired, revoked) or the key secret could not be read. Records fail and "
        "are redelivered; nothing is published, no customer is told anything.",
        "The log line `gateway refused our credentials` names the reason (never the key).",
        "Fix the secret (`aws secretsmanager put-secret-value`, docs/gateway.md). Records still queued finish by "
        "themselves; dead-lettered ones: `make redrive QUEUE=payment|refund`.",
    ),
    "gateway-idempotency-error": (
        "Stripe refused an idempotency key reused with other parameters. The message was acknowledged; the "
        "payment stays PENDING.",
        "The log line `gateway refused the idempotency key`; compare the intent at Stripe with the record.",
        "A bug: file it. Reconciliation settles the payment from its intent once it is older than "
        "`RECONCILE_PENDING_AFTER_SECONDS`.",
    ),
    "webhook-rejected": (
        "Requests to the webhook URL failed Stripe's signature or freshness check; nothing was read or written.",
        "The log line `webhook refused` names the check (`bad_signature`, `stale_timestamp`, "
        "`missing_signature`, `not_json`, `body_too_large`).",
        "All at once after a deploy or a secret change: the signing secret is not the endpoint's (Stripe "
        "Dashboard -> Webhooks). A trickle from strange addresses: someone probing the public URL; harmless.",
    ),
    "oldest-unfinished-payment": (
        "A payment (PENDING or waiting for the customer) or a refund (PENDING) has stayed unfinished longer than "
        "reconciliation should ever allow.",
        "`make reconcile` (AWS: `aws lambda invoke --function-name novamart-payment-reconciler /dev/stdout`) "
        "and read the report; stuck records: "
        + _UNFINISHED_QUERY.format(table="payments", status="PENDING")
        + ", the same with `REQUIRES_ACTION`, and "
        + _UNFINISHED_QUERY.format(table="refunds", status="PENDING")
        + ".",
        "`retry_next_pass` in the report: Stripe is still unreachable for them; wait. `unknown_at_gateway` or "
        "anything else: a bug; compare the record with its intent or refund at Stripe (`intentId`, "
        "`transactionId`).",
    ),
    "mismatch-rejected": (
        "A producer repeated a trigger with other parameters (a payment with another amount or customer, a "
        "partial refund reusing a `requestId` with another amount); nothing moved, nothing was published.",
        "The log line `payment trigger rejected` / `refund trigger rejected` carries the order, event and "
        "correlation ids.",
        "Tell the producing team; their fix is a new order or a new `requestId`.",
    ),
    "risk-blocked": (
        "The risk check blocked more orders per minute than the threshold (payment.failed with fraud_suspected or "
        "risk_limit_exceeded, no gateway request). A jump right after a rules change is most often that change "
        "blocking good customers.",
        "The metric `RiskBlocked.<rule>` names the rule; the log line `order blocked by the risk check` carries "
        "`rule` and the order ids; `aws ssm get-parameter --name /novamart-payments/risk-rules` shows the rules in "
        "force (docs/risk.md).",
        "A bad push: put the previous document back (`terraform apply` of `risk_rules`, or `aws ssm "
        "put-parameter --overwrite` in an emergency): in force within the cache TTL, no deploy. Blocked orders "
        "stay failed: the storefront asks those customers to order again. A real attack: nothing; the rule works.",
    ),
    "risk-rules-invalid": (
        "A rules document read from SSM broke its schema. Running containers keep their last good rules; a new "
        "container has none, so its payment records fail and are retried (never charged unchecked).",
        "The log line `risk rules document refused` names the JSON pointers and the parameter.",
        "Put a valid document (docs/risk.md, schema in lambda_src/novamart_payments/risk/rules.schema.json); "
        "`terraform plan` refuses most mistakes before they reach SSM.",
    ),
    "risk-scorer-errors": (
        "The external fraud scorer answered an error, or nothing within its timeout; orders were decided by the "
        "configured policy (fail-open: allowed by the rules alone; fail-closed: blocked as fraud_suspected).",
        "The log line `risk scorer unavailable` names the error (never the order's token); the vendor's status page.",
        "Fail-open: nothing to do but watch fraud while it lasts. Fail-closed: good customers are being refused; "
        "consider switching to fail-open (`RISK_SCORER_FAILURE_POLICY`) until the vendor recovers.",
    ),
}


def _row(alarm: Alarm, names: dict[str, str]) -> tuple[str, str, str]:
    if alarm.kind.startswith("function_"):
        return _function_row(alarm, names)
    if alarm.kind in ("dlq_messages", "queue_oldest_message"):
        return _queue_row(alarm)
    if alarm.target not in _RECORD_ROWS:
        raise ValueError(
            f"alarm {alarm.name} (metric {alarm.metric}) has no runbook row: add it to tools/docgen/runbook.py"
        )
    return _RECORD_ROWS[alarm.target]


def _function_names() -> dict[str, str]:
    service = _service()
    names: dict[str, str] = {}
    for key, body in {**service.locals["functions"], **service.locals["later_functions"]}.items():
        ref = re.fullmatch(r"\$\{var\.(\w+)\}", str(body["function_name"]))
        names[key] = str(service.var(ref.group(1))) if ref else _FUNCTION[key]
    return names


def runbook_page() -> str:
    found = alarms()
    names = _function_names()
    lines = [
        "# Runbook: one row per alarm, by the name the page arrives with",
        "",
        "<!-- Generated by tools/gen_docs.py from the Terraform alarm definitions (terraform/modules/alarms as",
        "     terraform/modules/service calls it). Edit tools/docgen/runbook.py, then run `make docs`. -->",
        "",
        f"{len(found)} alarms. Each alarm's description ends with the link to its row (`runbook_url`, default "
        f"`{RUNBOOK}`). Names carry envs/aws's prefix; another `name_prefix` changes the prefix only. "
        "`aws ...` commands run against AWS with your credentials. `make redrive` / `make replay` run against "
        "the local stack (the Makefile points at the emulator); on AWS run the same tool directly: "
        "`.venv/bin/python tools/ops.py redrive --queue payment` (see [Redrive and replay](#redrive-and-replay)).",
        "",
        "| alarm | what it means | how to confirm | what to do |",
        "|---|---|---|---|",
    ]
    for alarm in found:
        means, confirm, do = _row(alarm, names)
        lines.append(f'| <a id="{alarm.key}"></a>`{alarm.name}` | {means} | {confirm} | {do} |')
    lines += ["", _REDRIVE_AND_REPLAY]
    return "\n".join(lines) + "\n"


_REDRIVE_AND_REPLAY = (
    """## Redrive and replay

- **`make redrive QUEUE=payment|refund [DRY_RUN=1]`** (`tools/ops.py redrive`) moves the queue's dead letters back
  to the queue they came from. It first shows how many there are, the oldest age, and each one's event type, event
  id and order id (never its payment method). `DRY_RUN=1` stops there. It uses SQS's message move task where the
  service has it (AWS), otherwise receives, sends to the source queue, and deletes only what was sent (a crash in
  between leaves a copy in both: at least once, never lost).
  **Safe when** the cause is fixed: a redriven trigger is decided again from the order's record, so a payment or
  refund already finished (by reconciliation, say) publishes its outcome again with the same `eventId` and moves
  no money. **Not useful** for a contract violation: it is refused again; the producer must send a new event.
- **`make replay FROM=2026-12-02T10:00:00Z TO=2026-12-02T11:00:00Z`** (`tools/ops.py replay`) replays the events
  the service published in that window from the EventBridge archive (`<name_prefix>-published`, retention
  `event_archive_retention_days`) to the bus, so a consumer that lost them (a broken rule, a deleted queue) gets
  them again. It shows the replay's state until it completes.
  **Safe when** consumers deduplicate by `eventId` (the contract requires it: docs/events/delivery.md); every
  consumer subscribed to those events gets them again, not only the one that lost them. The service itself does
  not consume what it publishes, so a replay moves no money.
- **Stuck refunds**: """
    + _UNFINISHED_QUERY.format(table="refunds", status="PENDING")
    + """ lists the refunds
  reconciliation has not finished yet (oldest first); each pass settles them from Stripe's refund or, when Stripe
  has none, gives the reservation back and publishes `refund.failed`.
"""
)
