"""terraform/envs/local applied for real into a fresh moto server, read back, and planned again.

The apply happens once per session (``deployed_stack`` in tests/support/stack.py, shared with the behaviour
suite). Everything asked for in Terraform is compared with what the emulator stores; the second
``terraform plan -detailed-exitcode`` must show no change except the emulator gaps listed in EMULATOR_GAPS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from novamart_payments.majors import terraform_table

from tests.support.stack import DeployedStack, plan_local

REGION = os.environ.get("AWS_REGION", "us-east-2")
BUS = "default"
REPO = Path(__file__).resolve().parents[2]
LAMBDA_TIMEOUT = 210
FUNCTIONS = {
    "payment": {
        "name": "novamart-payment-handler",
        "handler": "novamart_payments.handlers.payment.handler",
        "rule": "novamart-payment-handler-consumed",
        "consumes": {("novamart.inventory", "inventory.reserved"), ("novamart.orders", "order.ready_for_payment")},
        "publishes": ["payment.succeeded", "payment.failed", "payment.action_required"],
    },
    "refund": {
        "name": "novamart-refund-handler",
        "handler": "novamart_payments.handlers.refund.handler",
        "rule": "novamart-refund-handler-consumed",
        "consumes": {("novamart.inventory", "inventory.reservation_failed"), ("novamart.orders", "order.cancelled")},
        "publishes": ["refund.succeeded", "refund.failed", "payment.succeeded", "payment.failed"],
    },
}
ENVIRONMENT = {
    "PAYMENT_TABLE_NAME": "payments",
    "REFUND_TABLE_NAME": "refunds",
    "EVENT_BUS_NAME": "default",
    "GATEWAY_MODE": "stripe",
    "STRIPE_OFF_SESSION": "false",  # localstripe refuses off_session on confirm
    "POWERTOOLS_SERVICE_NAME": "novamart-payments",
    "POWERTOOLS_METRICS_NAMESPACE": "NovaMart/Payments",
    "LOG_LEVEL": "DEBUG",
    # envs/local's retry schedule and horizon (1 s, 2 s over 4 s), from which Terraform derives maxReceiveCount with
    # the code's formula (config.receives_for_horizon): 4.
    "QUEUE_MAX_RECEIVE_COUNT": "4",
    "RETRY_SCHEDULE_SECONDS": "1,2",
    "RETRY_JITTER": "0.2",
    "RETRY_HORIZON_SECONDS": "4",
    # The gateway request budget all four functions share: 20/s for the local Stripe (a test-mode account), its
    # per-slot counters in the webhook-events table.
    "GATEWAY_BUDGET_PER_SECOND": "20",
    "GATEWAY_BUDGET_TABLE_NAME": "payment-webhook-events",
    "WEBHOOK_EVENT_TABLE_NAME": "payment-webhook-events",
    "ACTION_DEADLINE_SECONDS": "15",
    "RECONCILE_PENDING_AFTER_SECONDS": "60",
    "RECONCILE_ACTION_AFTER_SECONDS": "5",
    # The risk check (docs/risk.md): the rules parameter (terraform/envs/local/risk-rules.json), its cache TTL, the
    # counters' table, and what a Radar early fraud warning does.
    "RISK_RULES_PARAMETER_NAME": "/novamart-payments/risk-rules",
    "RISK_RULES_MAX_AGE_SECONDS": "5",
    "RISK_TABLE_NAME": "novamart-payments-risk-counters",
    "RADAR_EARLY_FRAUD_WARNING_POLICY": "refund_actionable",
}
LATER_FUNCTIONS = {
    "webhooks": ("novamart-payment-webhooks", "novamart_payments.handlers.webhooks.handler"),
    "reconciler": ("novamart-payment-reconciler", "novamart_payments.handlers.reconcile.handler"),
}
AUDIT_QUEUE = "novamart-payments-audit"

# Differences a second plan shows only because of the emulator, keyed (resource type, attribute); each entry says
# why, and "json" entries must still be semantically equal JSON. None is left: moto's whitespace in RedrivePolicy
# (a whitespace-only update of every queue on each plan) is patched at its root (moto_patches).
EMULATOR_GAPS: dict[tuple[str, str], dict[str, str]] = {}


def _client(stack: DeployedStack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _pairs(pattern: dict[str, Any]) -> set[tuple[str, str]]:
    """The (source, detail-type) pairs a pattern of the form we generate matches; fails on anything else."""
    alternatives = pattern["$or"] if set(pattern) == {"$or"} else [pattern]
    pairs: set[tuple[str, str]] = set()
    for alt in alternatives:
        assert set(alt) == {"source", "detail-type"}, f"unexpected filter keys {sorted(alt)} in {pattern}"
        pairs |= {(s, d) for s in alt["source"] for d in alt["detail-type"]}
    return pairs


def _queue_attributes(stack: DeployedStack, name: str) -> dict[str, str]:
    sqs = _client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def _key_arn(stack: DeployedStack) -> str:
    kms = _client(stack, "kms")
    return str(kms.describe_key(KeyId="alias/novamart-payments")["KeyMetadata"]["Arn"])


def test_outputs_follow_docs_design(deployed_stack: DeployedStack) -> None:
    stack = deployed_stack
    assert stack["payment_table_name"] == "payments"
    assert stack["refund_table_name"] == "refunds"
    assert stack["event_bus_name"] == BUS
    assert stack["audit_queue_url"].endswith(f"/{AUDIT_QUEUE}")
    assert set(stack["functions"]) == {"payment", "refund"}
    for key, fn in stack["functions"].items():
        assert set(fn) == {"function_name", "queue_url", "queue_arn", "dlq_url", "dlq_arn"}
        assert fn["function_name"] == FUNCTIONS[key]["name"]
        assert fn["queue_arn"].endswith(f":{FUNCTIONS[key]['name']}-queue")
        assert fn["dlq_arn"].endswith(f":{FUNCTIONS[key]['name']}-dlq")
    assert stack["lambda_timeout_seconds"] == {"payment": LAMBDA_TIMEOUT, "refund": LAMBDA_TIMEOUT}
    for key, visibility in stack["queue_visibility_timeout_seconds"].items():
        assert visibility >= 6 * stack["lambda_timeout_seconds"][key]


def test_rules_route_each_detail_type_to_exactly_its_function(deployed_stack: DeployedStack) -> None:
    events = _client(deployed_stack, "events")
    rules = {r["Name"]: r for r in events.list_rules(EventBusName=BUS)["Rules"]}
    routed: dict[tuple[str, str], list[str]] = {}
    for key, spec in FUNCTIONS.items():
        pattern = json.loads(rules[spec["rule"]]["EventPattern"])
        assert _pairs(pattern) == spec["consumes"], f"{spec['rule']} matches {_pairs(pattern)}"
        for pair in _pairs(pattern):
            routed.setdefault(pair, []).append(key)
        targets = events.list_targets_by_rule(Rule=spec["rule"], EventBusName=BUS)["Targets"]
        assert len(targets) == 1
        fn = deployed_stack["functions"][key]
        assert targets[0]["Arn"] == fn["queue_arn"]
        assert targets[0]["DeadLetterConfig"]["Arn"] == fn["dlq_arn"]
        assert targets[0]["RetryPolicy"] == {"MaximumRetryAttempts": 24, "MaximumEventAgeInSeconds": 3600}
    assert all(len(keys) == 1 for keys in routed.values()), routed


def test_audit_tap_takes_everything_the_service_publishes(deployed_stack: DeployedStack) -> None:
    events = _client(deployed_stack, "events")
    rule = events.describe_rule(Name=AUDIT_QUEUE, EventBusName=BUS)
    assert json.loads(rule["EventPattern"]) == {"source": ["novamart.payments"]}
    targets = events.list_targets_by_rule(Rule=AUDIT_QUEUE, EventBusName=BUS)["Targets"]
    assert [t["Arn"].rsplit(":", 1)[1] for t in targets] == [AUDIT_QUEUE]
    assert targets[0]["DeadLetterConfig"]["Arn"].endswith(f":{AUDIT_QUEUE}-dlq")


@pytest.mark.parametrize("queue", [*(f"{f['name']}-queue" for f in FUNCTIONS.values()), AUDIT_QUEUE])
def test_queues_are_encrypted_redrive_to_a_dlq_and_deny_plain_http(deployed_stack: DeployedStack, queue: str) -> None:
    key_arn = _key_arn(deployed_stack)
    attrs = _queue_attributes(deployed_stack, queue)
    redrive = json.loads(attrs["RedrivePolicy"])
    dlq_name = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
    assert dlq_name.endswith("-dlq") and dlq_name != queue
    assert int(redrive["maxReceiveCount"]) >= 1
    assert attrs["KmsMasterKeyId"] == key_arn
    if queue != AUDIT_QUEUE:
        assert int(attrs["VisibilityTimeout"]) == 6 * LAMBDA_TIMEOUT
    dlq_attrs = _queue_attributes(deployed_stack, dlq_name)
    assert dlq_attrs["KmsMasterKeyId"] == key_arn
    for name, a in ((queue, attrs), (dlq_name, dlq_attrs)):
        statements = json.loads(a["Policy"])["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        for s in statements:
            if s["Effect"] == "Allow":
                assert s["Principal"] == {"Service": "events.amazonaws.com"} and s["Action"] == "sqs:SendMessage"
                assert s["Resource"] == a["QueueArn"]
                assert s["Condition"]["ArnEquals"]["aws:SourceArn"].startswith("arn:aws:events:")


def test_event_source_mappings(deployed_stack: DeployedStack) -> None:
    lam = _client(deployed_stack, "lambda")
    for key, spec in FUNCTIONS.items():
        # moto ignores the FunctionName filter of ListEventSourceMappings: filter here.
        mappings = [
            m
            for m in lam.list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"].endswith(f":function:{spec['name']}")
        ]
        assert len(mappings) == 1
        esm = mappings[0]
        assert esm["EventSourceArn"] == deployed_stack["functions"][key]["queue_arn"]
        assert esm["BatchSize"] == 1  # no record waits behind another's gateway requests (README, Configuration)
        assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert esm["ScalingConfig"] == {"MaximumConcurrency": 5}
        assert esm["State"] == "Enabled"


def test_functions(deployed_stack: DeployedStack) -> None:
    lam = _client(deployed_stack, "lambda")
    key_arn = _key_arn(deployed_stack)
    specs = [*FUNCTIONS.values(), *({"name": n, "handler": h} for n, h in LATER_FUNCTIONS.values())]
    for spec in specs:
        cfg = lam.get_function_configuration(FunctionName=spec["name"])
        assert cfg["Handler"] == spec["handler"]
        assert cfg["Runtime"] == "python3.12"
        env = dict(cfg["Environment"]["Variables"])
        secret_id, api_base = env.pop("STRIPE_SECRET_ID"), env.pop("STRIPE_API_BASE")
        assert ":secret:novamart/payments/stripe-webhook-signing-secret" in env.pop("STRIPE_WEBHOOK_SECRET_ID")
        # The code's table of majors in force (majors.py), carried by Terraform's event_majors default.
        assert json.loads(env.pop("EVENT_MAJORS")) == terraform_table()
        assert env == ENVIRONMENT
        assert (
            secret_id.startswith("arn:aws:secretsmanager:")
            and ":secret:novamart/payments/stripe-secret-key" in secret_id
        )
        assert api_base.startswith("http://127.0.0.1:")
        assert "AWS_REGION" not in env
        assert cfg["Timeout"] == LAMBDA_TIMEOUT
        assert cfg["TracingConfig"] == {"Mode": "Active"}
        assert cfg["KMSKeyArn"] == key_arn
        assert cfg["Role"].endswith(f":role/{spec['name']}-role")
        assert lam.get_function_concurrency(FunctionName=spec["name"])["ReservedConcurrentExecutions"] == 10


def test_the_risk_rules_and_counters_are_deployed(deployed_stack: DeployedStack) -> None:
    from novamart_payments.risk.rules import parse_rules

    rules_file = Path(__file__).resolve().parents[2] / "terraform" / "envs" / "local" / "risk-rules.json"
    value = _client(deployed_stack, "ssm").get_parameter(Name="/novamart-payments/risk-rules")["Parameter"]["Value"]
    assert json.loads(value) == json.loads(rules_file.read_text()) and parse_rules(value)
    ddb = _client(deployed_stack, "dynamodb")
    ttl = ddb.describe_time_to_live(TableName="novamart-payments-risk-counters")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt" and ttl["TimeToLiveStatus"] == "ENABLED"
    sse = ddb.describe_table(TableName="novamart-payments-risk-counters")["Table"]["SSEDescription"]
    assert sse["KMSMasterKeyArn"] == _key_arn(deployed_stack)


def test_function_roles_are_least_privilege(deployed_stack: DeployedStack) -> None:
    iam = _client(deployed_stack, "iam")
    for key, spec in FUNCTIONS.items():
        role = f"{spec['name']}-role"
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        assert names == [f"{spec['name']}-least-privilege"]
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
        doc = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        by_sid = {s["Sid"]: s for s in doc["Statement"]}
        for s in doc["Statement"]:
            assert s["Effect"] == "Allow"
            assert not any("*" in a for a in s["Action"]), s
            for resource in s["Resource"]:
                assert "*" not in resource or (
                    (resource == "*" and all(a.startswith("xray:") for a in s["Action"]))
                    or resource.endswith(f":log-group:/aws/lambda/{spec['name']}:log-stream:*")
                ), s
        assert by_sid["SourceQueue"]["Resource"] == [deployed_stack["functions"][key]["queue_arn"]]
        assert by_sid["ReadSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
        assert by_sid["ReadSecrets"]["Resource"] == [_secret(deployed_stack)["ARN"]]
        assert by_sid["PublishOwnEvents"]["Condition"] == {
            "StringEquals": {
                "events:source": "novamart.payments",
                "events:detail-type": spec["publishes"],
            }
        }
        assert by_sid["PublishOwnEvents"]["Resource"][0].endswith(":event-bus/default")


def _secret(stack: DeployedStack) -> dict[str, Any]:
    return dict(_client(stack, "secretsmanager").describe_secret(SecretId="novamart/payments/stripe-secret-key"))


def test_stripe_key_secret_is_encrypted_with_the_service_key_and_holds_the_test_key(
    deployed_stack: DeployedStack,
) -> None:
    secret = _secret(deployed_stack)
    assert secret["KmsKeyId"] == _key_arn(deployed_stack)
    value = _client(deployed_stack, "secretsmanager").get_secret_value(SecretId=secret["ARN"])["SecretString"]
    assert value.startswith("sk_test_")  # locally a test key; envs/aws stores no value through Terraform


def test_tables(deployed_stack: DeployedStack) -> None:
    ddb = _client(deployed_stack, "dynamodb")
    key_arn = _key_arn(deployed_stack)
    for table, hash_key in (("payments", "paymentId"), ("refunds", "refundId")):
        t = ddb.describe_table(TableName=table)["Table"]
        assert t["KeySchema"] == [{"AttributeName": hash_key, "KeyType": "HASH"}]
        gsi = {i["IndexName"]: i for i in t["GlobalSecondaryIndexes"]}["orderId-index"]
        assert gsi["KeySchema"] == [{"AttributeName": "orderId", "KeyType": "HASH"}]
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
        assert t["SSEDescription"]["SSEType"] == "KMS" and t["SSEDescription"]["KMSMasterKeyArn"] == key_arn
        assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert t["DeletionProtectionEnabled"] is False  # switched off locally, on in envs/aws
        pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_later_outcome_resources(deployed_stack: DeployedStack) -> None:
    """The webhook function's public URL (Stripe authenticates by signature), the 5-minute reconciliation schedule,
    the sparse index of unfinished payments and the table of handled Stripe events with its TTL."""
    lam, events, ddb = (_client(deployed_stack, s) for s in ("lambda", "events", "dynamodb"))
    later = deployed_stack["later_functions"]
    url = lam.get_function_url_config(FunctionName=LATER_FUNCTIONS["webhooks"][0])
    assert url["AuthType"] == "NONE" and url["FunctionUrl"] == later["webhooks"]["url"]
    assert later["webhooks"]["url_id"] and later["webhooks"]["url"].startswith(
        f"https://{later['webhooks']['url_id']}."
    )
    rule = events.describe_rule(Name=later["reconciler"]["rule_name"])
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and "EventPattern" not in rule
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(":function:novamart-payment-reconciler")
    payments = ddb.describe_table(TableName="payments")["Table"]
    unfinished = {i["IndexName"]: i for i in payments["GlobalSecondaryIndexes"]}["unfinished"]
    assert unfinished["KeySchema"] == [
        {"AttributeName": "openStatus", "KeyType": "HASH"},
        {"AttributeName": "openSince", "KeyType": "RANGE"},
    ]
    handled = deployed_stack["webhook_event_table_name"]
    assert ddb.describe_table(TableName=handled)["Table"]["KeySchema"] == [
        {"AttributeName": "eventId", "KeyType": "HASH"}
    ]
    ttl = ddb.describe_time_to_live(TableName=handled)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_log_groups(deployed_stack: DeployedStack) -> None:
    logs = _client(deployed_stack, "logs")
    key_arn = _key_arn(deployed_stack)
    for spec in FUNCTIONS.values():
        name = f"/aws/lambda/{spec['name']}"
        (group,) = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
        ]
        assert group["retentionInDays"] == 365
        assert group["kmsKeyId"] == key_arn


def test_alarms(deployed_stack: DeployedStack) -> None:
    cw = _client(deployed_stack, "cloudwatch")
    alarms = cw.describe_alarms(AlarmNamePrefix="novamart-payments-")["MetricAlarms"]
    # The service's own metrics (GatewayAuthError, ...) carry the Powertools `service` dimension.
    watched = {(a["MetricName"], a["Dimensions"][0]["Value"] if a["Dimensions"] else None) for a in alarms}
    wanted = {("GatewayAuthError", "novamart-payments"), ("GatewayIdempotencyError", "novamart-payments")}
    assert wanted <= watched, watched
    topics = {tuple(a["AlarmActions"]) for a in alarms}
    assert len(topics) == 1 and next(iter(topics))[0].endswith(":novamart-payments-alarms")
    for spec in FUNCTIONS.values():
        for metric in ("Errors", "Throttles", "Duration"):
            assert (metric, spec["name"]) in watched
        assert ("ApproximateAgeOfOldestMessage", f"{spec['name']}-queue") in watched
        assert ("ApproximateNumberOfMessagesVisible", f"{spec['name']}-dlq") in watched
    assert ("ApproximateNumberOfMessagesVisible", f"{AUDIT_QUEUE}-dlq") in watched
    duration = [a for a in alarms if a["MetricName"] == "Duration"]
    assert all(a["Threshold"] == 0.8 * LAMBDA_TIMEOUT * 1000 for a in duration)
    # Every alarm as applied has its runbook row, and its description links to it (docs/runbook.md).
    runbook = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
    for alarm in alarms:
        key = alarm["AlarmName"].removeprefix("novamart-payments-")
        assert f'<a id="{key}"></a>`novamart-payments-{key}`' in runbook, f"no runbook row for {alarm['AlarmName']}"
        assert alarm["AlarmDescription"].endswith(f"Runbook: docs/runbook.md#{key}"), alarm["AlarmDescription"]
    sns = _client(deployed_stack, "sns")
    attrs = sns.get_topic_attributes(TopicArn=next(iter(topics))[0])["Attributes"]
    assert attrs["KmsMasterKeyId"] == _key_arn(deployed_stack)
    deny = [s for s in json.loads(attrs["Policy"])["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _changed_attributes(change: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = set(before) | set(after) | {k for k, v in unknown.items() if v}
    return {k: (before.get(k), after.get(k)) for k in sorted(keys) if before.get(k) != after.get(k) or unknown.get(k)}


def check_plan_within_gaps(
    plan: dict[str, Any], gaps: dict[tuple[str, str], dict[str, str]] = EMULATOR_GAPS
) -> list[str]:
    """Problems in a plan's resource_changes: anything but no-op, or updates outside ``gaps``."""
    problems = []
    for rc in plan.get("resource_changes", []):
        actions = rc["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        if actions != ["update"]:
            problems.append(f"{rc['address']}: {actions}")
            continue
        for attribute, (before, after) in _changed_attributes(rc["change"]).items():
            gap = gaps.get((rc["type"], attribute))
            if gap is None:
                problems.append(f"{rc['address']}.{attribute}: {before!r} -> {after!r}")
            elif gap["kind"] == "json" and json.loads(before or "null") != json.loads(after or "null"):
                problems.append(f"{rc['address']}.{attribute}: JSON differs: {before!r} -> {after!r}")
    return problems


def test_check_plan_within_gaps_rejects_real_changes() -> None:
    """The allow-list only admits what it names: a real change or a replacement is reported."""
    gaps = {("aws_sqs_queue", "redrive_policy"): {"kind": "json", "reason": "example"}}
    whitespace = {
        "address": "q",
        "type": "aws_sqs_queue",
        "change": {
            "actions": ["update"],
            "before": {"redrive_policy": '{"a": 1}'},
            "after": {"redrive_policy": '{"a":1}'},
            "after_unknown": {},
        },
    }
    assert check_plan_within_gaps({"resource_changes": [whitespace]}, gaps) == []
    assert check_plan_within_gaps({"resource_changes": [whitespace]}), "a whitespace diff is a change without a gap"
    widened = json.loads(json.dumps(whitespace))
    widened["change"]["after"]["redrive_policy"] = '{"a":2}'
    assert check_plan_within_gaps({"resource_changes": [widened]}, gaps)
    other = json.loads(json.dumps(whitespace))
    other["change"]["after"]["visibility_timeout_seconds"] = 1
    assert check_plan_within_gaps({"resource_changes": [other]}, gaps)
    replaced = json.loads(json.dumps(whitespace))
    replaced["change"]["actions"] = ["delete", "create"]
    assert check_plan_within_gaps({"resource_changes": [replaced]}, gaps)


def test_second_plan_changes_nothing_but_emulator_gaps(deployed_stack: DeployedStack) -> None:
    code, plan = plan_local(deployed_stack.endpoint_url, deployed_stack.state_dir)
    problems = check_plan_within_gaps(plan)
    assert not problems, (
        "second plan wants changes outside the documented emulator gaps (EMULATOR_GAPS):\n  "
        + "\n  ".join(problems)
        + f"\nlog: {deployed_stack.log_path}"
    )
    assert code in (0, 2)
