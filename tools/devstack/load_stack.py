"""The payment and refund paths of ``envs/local`` for a load run, made directly with boto3 in a fresh emulator.

``make load`` (``tools/devstack/load.py``) needs the functions running concurrently behind their queues within a
couple of minutes; a Terraform apply of ``envs/local`` alone takes 80-100 s here (each SQS queue waits ~25 s in the
provider), so this builds the part of the stack the burst goes through, as ``tests/bench/bench_local.py`` does:
the three tables, the Stripe key secret, the payment and refund functions from ``build/lambda.zip``, each behind an
EventBridge rule -> SQS queue (redrive to a DLQ at ``maxReceiveCount``) -> event-source mapping (batch size,
``MaximumConcurrency``, partial batch failures), and an audit queue on everything the service publishes.

Every number comes from ``terraform/envs/local`` as Terraform would resolve it (``LocalSettings``), the functions'
environment carries the variables ``modules/service`` gives them, and the gateway budget is the Terraform variable
``gateway_budget_per_second`` of ``envs/local`` (``TF_VAR_gateway_budget_per_second`` overrides it, as it would
for ``make dev``). Left out, because a burst of triggers never reaches them: the webhook function and its URL, the
reconciler's schedule, alarms, KMS and IAM policies (the IAM suite and the Terraform tests cover those).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from novamart_payments.config import receives_for_horizon

from tools.devstack.aws import PAYMENT_FUNCTION, REFUND_FUNCTION, client
from tools.devstack.processes import ROOT

LOCAL_ENV = ROOT / "terraform" / "envs" / "local"
LAMBDA_ZIP = ROOT / "build" / "lambda.zip"
# The Terraform variable of envs/local that sets the budget, as Terraform reads it from the environment.
BUDGET_VARIABLE = "TF_VAR_" + "gateway_budget_per_second"
TABLES = {"payments": "payments", "refunds": "refunds", "webhook_events": "webhook-events"}
STRIPE_KEY = "sk_test_novamart_local"  # localstripe accepts any sk_test_ key: a placeholder, not a secret
# Which consumed detail-types each function's rule routes (modules/service, consumes).
TRIGGERS = {
    PAYMENT_FUNCTION: (
        "novamart_payments.handlers.payment.handler",
        {"novamart.orders": ["order.ready_for_payment"], "novamart.inventory": ["inventory.reserved"]},
    ),
    REFUND_FUNCTION: (
        "novamart_payments.handlers.refund.handler",
        {"novamart.orders": ["order.cancelled"], "novamart.inventory": ["inventory.reservation_failed"]},
    ),
}


@dataclass(frozen=True)
class LocalSettings:
    """What ``envs/local`` gives the functions and their mappings, resolved from the committed Terraform."""

    budget_per_second: int
    retry_schedule_seconds: tuple[int, ...]
    retry_horizon_seconds: int
    retry_jitter: float
    batch_size: int
    maximum_concurrency: int
    lambda_timeout_seconds: int

    @property
    def max_receive_count(self) -> int:
        return receives_for_horizon(self.retry_schedule_seconds, self.retry_horizon_seconds)

    @classmethod
    def from_terraform(cls, env_dir: Path = LOCAL_ENV) -> LocalSettings:
        from tests.reliability.terraform_values import Module

        root = Module(env_dir)
        service = root.child("service")
        override = os.environ.get(BUDGET_VARIABLE)
        budget = int(override) if override else int(service.var("gateway_budget_per_second"))
        return cls(
            budget_per_second=budget,
            retry_schedule_seconds=tuple(int(s) for s in service.var("retry_schedule_seconds")),
            retry_horizon_seconds=int(service.var("retry_horizon_seconds")),
            retry_jitter=float(service.var("retry_jitter")),
            batch_size=int(service.var("batch_size")),
            maximum_concurrency=int(service.var("maximum_concurrency")),
            lambda_timeout_seconds=int(service.var("lambda_timeout_seconds")),
        )


@dataclass(frozen=True)
class LoadStack:
    endpoint: str
    region: str
    bus: str
    queues: dict[str, str]  # function name -> its queue's URL
    dlqs: dict[str, str]  # function name -> its DLQ's URL
    audit_queue: str
    settings: LocalSettings


def environment(settings: LocalSettings, stripe_api_base: str, secret_arn: str, log_level: str) -> dict[str, str]:
    """The variables modules/service gives every function (envs/local, Stripe gateway)."""
    return {
        "PAYMENT_TABLE_NAME": TABLES["payments"],
        "REFUND_TABLE_NAME": TABLES["refunds"],
        "EVENT_BUS_NAME": "default",
        "GATEWAY_MODE": "stripe",
        "STRIPE_SECRET_ID": secret_arn,
        "STRIPE_API_BASE": stripe_api_base,
        "STRIPE_OFF_SESSION": "false",
        "WEBHOOK_EVENT_TABLE_NAME": TABLES["webhook_events"],
        "POWERTOOLS_SERVICE_NAME": "novamart-payments",
        "POWERTOOLS_METRICS_NAMESPACE": "NovaMart/Payments",
        "LOG_LEVEL": log_level,
        "QUEUE_MAX_RECEIVE_COUNT": str(settings.max_receive_count),
        "RETRY_SCHEDULE_SECONDS": ",".join(str(s) for s in settings.retry_schedule_seconds),
        "RETRY_JITTER": str(settings.retry_jitter),
        "RETRY_HORIZON_SECONDS": str(settings.retry_horizon_seconds),
        "GATEWAY_BUDGET_PER_SECOND": str(settings.budget_per_second),
        "GATEWAY_BUDGET_TABLE_NAME": TABLES["webhook_events"],
    }


def build(
    endpoint: str, region: str, stripe_api_base: str, settings: LocalSettings, *, log_level: str = "INFO"
) -> LoadStack:
    """Create the load run's stack in an empty emulator; return where its queues are."""
    from tests.support.service_aws import create_audit_queue, create_tables

    def c(service: str) -> Any:
        return client(service, endpoint, region)

    create_tables(c("dynamodb"), TABLES["payments"], TABLES["refunds"], TABLES["webhook_events"])
    secret_arn = c("secretsmanager").create_secret(Name="novamart/stripe-api-key", SecretString=STRIPE_KEY)["ARN"]
    assume = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [assume]}
    role = c("iam").create_role(RoleName="novamart-load", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    code = LAMBDA_ZIP.read_bytes()
    env = environment(settings, stripe_api_base, secret_arn, log_level)
    sqs, events, lam = c("sqs"), c("events"), c("lambda")
    queues: dict[str, str] = {}
    dlqs: dict[str, str] = {}
    visibility = 6 * settings.lambda_timeout_seconds  # modules/routing: 6 x the function's timeout
    for name, (handler, consumes) in TRIGGERS.items():
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=settings.lambda_timeout_seconds,
            MemorySize=256,
            Environment={"Variables": env},
        )
        dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = _arn(sqs, dlq)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receive_count}
        attributes = {"VisibilityTimeout": str(visibility), "RedrivePolicy": json.dumps(redrive)}
        queue = sqs.create_queue(QueueName=f"{name}-queue", Attributes=attributes)["QueueUrl"]
        pattern = {"$or": [{"source": [src], "detail-type": types} for src, types in consumes.items()]}
        events.put_rule(Name=f"{name}-triggers", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"{name}-triggers", Targets=[{"Id": "queue", "Arn": _arn(sqs, queue)}])
        lam.create_event_source_mapping(
            EventSourceArn=_arn(sqs, queue),
            FunctionName=name,
            BatchSize=settings.batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": settings.maximum_concurrency},
        )
        queues[name], dlqs[name] = queue, dlq
    audit = create_audit_queue(sqs, events, "novamart-load-audit")
    return LoadStack(endpoint, region, "default", queues, dlqs, audit, settings)


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
