"""Stack discovery: the deployed functions, queues and SQS event-source mappings, read back from the emulator.

Nothing is hard-coded: Terraform applied the stack, and this reads what it made (function configuration,
redrive policies, the audit queue).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tools.devstack.aws import LOG, PAYMENT_FUNCTION, PUBLISHER_SOURCE, REFUND_FUNCTION, client

# --------------------------------------------------------------------------------------------------------------
# discovery


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    version: str = "$LATEST"


@dataclass(frozen=True)
class QueueInfo:
    arn: str
    url: str
    visibility_timeout: int
    max_receive_count: int | None
    dlq_arn: str | None
    dlq_url: str | None


@dataclass(frozen=True)
class EventSourceMapping:
    uuid: str
    function: FunctionConfig
    queue: QueueInfo
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    enabled: bool
    maximum_concurrency: int | None


@dataclass(frozen=True)
class StackInfo:
    """What the local stack looks like, read from the emulator (the functions' environment names the rest)."""

    functions: dict[str, FunctionConfig]
    mappings: list[EventSourceMapping]
    payment_table: str | None
    refund_table: str | None
    event_bus: str | None
    audit_queue_url: str | None
    rules: list[dict[str, Any]] = field(default_factory=list)


def _queue_url_from_arn(sqs: Any, arn: str) -> str:
    parts = arn.split(":")
    return sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]


def queue_info(sqs: Any, arn: str) -> QueueInfo:
    url = _queue_url_from_arn(sqs, arn)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    dlq_arn = redrive.get("deadLetterTargetArn")
    dlq_url = _queue_url_from_arn(sqs, dlq_arn) if dlq_arn else None
    max_receive = int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None
    return QueueInfo(arn, url, int(attrs.get("VisibilityTimeout", 30)), max_receive, dlq_arn, dlq_url)


def _paginate(lam_or_client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in lam_or_client.get_paginator(op).paginate(**kwargs) for item in page[key]]


def function_config(lam: Any, name_or_arn: str) -> FunctionConfig:
    cfg = lam.get_function_configuration(FunctionName=name_or_arn)
    return FunctionConfig(
        name=cfg["FunctionName"],
        arn=cfg["FunctionArn"],
        handler=cfg["Handler"],
        environment=dict((cfg.get("Environment") or {}).get("Variables") or {}),
        timeout_seconds=int(cfg.get("Timeout") or 3),
        memory_mb=int(cfg.get("MemorySize") or 128),
        version=cfg.get("Version") or "$LATEST",
    )


def discover_stack(endpoint_url: str, region: str) -> StackInfo:
    """Read functions, SQS mappings, queues, tables, bus and audit queue back from the emulator."""
    lam = client("lambda", endpoint_url, region)
    sqs = client("sqs", endpoint_url, region)
    functions: dict[str, FunctionConfig] = {}
    for fn in _paginate(lam, "list_functions", "Functions"):
        functions[fn["FunctionName"]] = function_config(lam, fn["FunctionName"])
    mappings = []
    for esm in _paginate(lam, "list_event_source_mappings", "EventSourceMappings"):
        source = esm.get("EventSourceArn", "")
        if ":sqs:" not in source:
            continue
        fn_name = esm["FunctionArn"].split(":function:")[1].split(":")[0]
        fn_cfg = functions.get(fn_name) or function_config(lam, esm["FunctionArn"])
        try:
            queue = queue_info(sqs, source)
        except ClientError as exc:
            LOG.warning("mapping %s: queue %s unreadable: %s", esm["UUID"], source, exc)
            continue
        mappings.append(
            EventSourceMapping(
                uuid=esm["UUID"],
                function=fn_cfg,
                queue=queue,
                batch_size=int(esm.get("BatchSize") or 10),
                batching_window_seconds=int(esm.get("MaximumBatchingWindowInSeconds") or 0),
                report_batch_item_failures="ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []),
                enabled=esm.get("State", "Enabled") in ("Enabled", "Enabling", "Updating", "Creating"),
                maximum_concurrency=(esm.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            )
        )
    env: dict[str, str] = {}
    for fn in functions.values():
        if fn.name in (PAYMENT_FUNCTION, REFUND_FUNCTION):
            env.update(fn.environment)
    bus = env.get("EVENT_BUS_NAME")
    rules: list[dict[str, Any]] = []
    audit_url = None
    if bus:
        events = client("events", endpoint_url, region)
        with contextlib.suppress(ClientError):
            for rule in _paginate(events, "list_rules", "Rules", EventBusName=bus):
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
                rules.append({**rule, "Targets": targets})
                pattern = json.loads(rule.get("EventPattern") or "{}")
                if pattern.get("source") == [PUBLISHER_SOURCE] and "detail-type" not in pattern:
                    for target in targets:
                        if ":sqs:" in target["Arn"] and audit_url is None:
                            audit_url = _queue_url_from_arn(sqs, target["Arn"])
    return StackInfo(
        functions=functions,
        mappings=mappings,
        payment_table=env.get("PAYMENT_TABLE_NAME"),
        refund_table=env.get("REFUND_TABLE_NAME"),
        event_bus=bus,
        audit_queue_url=audit_url,
        rules=rules,
    )
