"""Checks each function's role, as applied in the emulator, against the IAM requests its code really makes.

The evaluator is moto's (``moto.iam.access_control.IAMPolicy``): action and resource wildcards, ``Allow`` /
``Deny``, and the ``StringEquals`` condition operator. Two gaps are closed here rather than trusted:

* moto ignores condition operators it does not know (they would pass): a policy using one is refused, naming it;
* moto lets a condition pass when the request lacks its key, where AWS fails it: every condition key the policy
  names and the request lacks is given the value ``(absent)``, which no ``StringEquals`` matches.

What a function needs = the requests its code made (``tests/support/aws_calls.py``: the integration, behaviour
and reliability runs plus this check's own walk through every path), plus what the Lambda service itself does
with the execution role, which no handler code shows (``platform_requests``: the SQS event-source mapping polls
and deletes, decrypts the queue and the environment variables with the service key, writes logs and traces).

Every call to a resource encrypted with a customer-managed key also needs that key **through the service that
holds the data** (``kms:ViaService``), with the caller's own rights: a secret's ``GetSecretValue`` needs
``kms:Decrypt`` through Secrets Manager; a DynamoDB read of an encrypted table ``kms:Decrypt`` and
``kms:DescribeKey`` through DynamoDB, a write ``kms:Encrypt`` and ``kms:GenerateDataKey`` too (DynamoDB developer
guide, "How Amazon DynamoDB uses AWS KMS"). The key of each table and secret is read back from the emulator, so a
table encrypted with another key, or a new encrypted resource, is checked the same way.

Three findings, each naming function, action and resource:

* ``missing``: a request the role does not allow (the call would fail on AWS);
* ``unused``: an (action, resource) of an ``Allow`` statement that permits none of the function's requests;
* ``too broad``: a request only another function makes (its tables, its detail-types) that this role allows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.support.aws_calls import SHARED, SOURCE_QUEUE, UNKNOWN, IamRequest, ResourceRef

SUPPORTED_OPERATORS = {"StringEquals"}
ABSENT = "(absent)"
LOG_STREAM = "2026/11/26/[$LATEST]0123456789abcdef"  # any stream of the function's log group


@dataclass(frozen=True)
class Probe:
    """One authorisation to evaluate: action on an exact ARN with condition values, and where it came from."""

    action: str
    resource: str
    conditions: tuple[tuple[str, str], ...] = ()
    why: str = ""

    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return (self.action, self.resource, self.conditions)

    def __str__(self) -> str:
        cond = "".join(f" [{k}={v}]" for k, v in self.conditions)
        return f"{self.action} on {self.resource}{cond} ({self.why})"


@dataclass
class DeployedFunction:
    """One function as the emulator holds it: role policies, environment and the resources the platform uses."""

    key: str  # payment / refund / webhooks / reconciler
    name: str
    region: str
    account: str
    policies: list[dict[str, Any]]
    environment: dict[str, str]
    queue_arn: str | None  # None: no queue feeds it (webhooks, reconciler)
    queue_key_arn: str | None
    environment_key_arn: str | None
    tracing_active: bool
    secrets: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name or ARN -> (ARN, key ARN)
    table_keys: dict[str, str] = field(default_factory=dict)  # table name -> ARN of its customer-managed key


def read_deployed(
    endpoint: str, region: str, functions: Mapping[str, Mapping[str, Any]]
) -> dict[str, DeployedFunction]:
    """Read each function's configuration, role policies and source queue back from the emulator."""
    import boto3

    kw = {"endpoint_url": endpoint, "region_name": region, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    lam, iam, sqs, kms = (boto3.client(s, **kw) for s in ("lambda", "iam", "sqs", "kms"))
    table_keys = read_table_keys(boto3.client("dynamodb", **kw), kms)
    deployed: dict[str, DeployedFunction] = {}
    for key, out in functions.items():
        cfg = lam.get_function_configuration(FunctionName=out["function_name"])
        role = cfg["Role"].rsplit("/", 1)[-1]
        policies = [
            _as_dict(iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"])
            for p in iam.list_role_policies(RoleName=role)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            meta = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=meta["DefaultVersionId"])
            policies.append(_as_dict(version["PolicyVersion"]["Document"]))
        queue_key = None
        if out.get("queue_arn"):
            queue_url = sqs.get_queue_url(QueueName=out["queue_arn"].rsplit(":", 1)[-1])["QueueUrl"]
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
            queue_key = attrs.get("KmsMasterKeyId")
        deployed[key] = DeployedFunction(
            key=key,
            name=cfg["FunctionName"],
            region=region,
            account=cfg["FunctionArn"].split(":")[4],
            policies=policies,
            environment=dict(cfg.get("Environment", {}).get("Variables", {})),
            queue_arn=out.get("queue_arn"),
            queue_key_arn=kms.describe_key(KeyId=queue_key)["KeyMetadata"]["Arn"] if queue_key else None,
            environment_key_arn=cfg.get("KMSKeyArn"),
            tracing_active=cfg.get("TracingConfig", {}).get("Mode") == "Active",
            table_keys=dict(table_keys),
        )
    return deployed


def read_table_keys(dynamodb: Any, kms: Any) -> dict[str, str]:
    """Every table encrypted with a KMS key (SSE type KMS), as table name -> the key's ARN."""
    keys: dict[str, str] = {}
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            sse = dynamodb.describe_table(TableName=name)["Table"].get("SSEDescription", {})
            key = sse.get("KMSMasterKeyArn")
            if sse.get("SSEType") == "KMS" and key:
                keys[name] = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    return keys


def _as_dict(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        from urllib.parse import unquote

        return dict(json.loads(unquote(document)))
    return dict(document)


# --- what a function needs ----------------------------------------------------------------------------------


def platform_requests(fn: DeployedFunction) -> list[Probe]:
    """What the Lambda service does with the execution role on the function's behalf (AWS Lambda developer guide:
    SQS event-source mapping permissions, environment variable encryption, CloudWatch Logs, X-Ray)."""
    r = fn.region
    probes = [
        Probe(f"sqs:{op}", fn.queue_arn, why="SQS event-source mapping")
        for op in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        if fn.queue_arn is not None
    ]
    if fn.queue_key_arn:
        probes.append(_decrypt(fn.queue_key_arn, f"sqs.{r}.amazonaws.com", "mapping reads the encrypted queue"))
    if fn.environment_key_arn:
        probes.append(_decrypt(fn.environment_key_arn, f"lambda.{r}.amazonaws.com", "encrypted environment"))
    stream = f"arn:aws:logs:{r}:{fn.account}:log-group:/aws/lambda/{fn.name}:log-stream:{LOG_STREAM}"
    probes += [Probe(f"logs:{op}", stream, why="function logs") for op in ("CreateLogStream", "PutLogEvents")]
    if fn.tracing_active:
        probes += [Probe(f"xray:{op}", "*", why="active tracing") for op in ("PutTraceSegments", "PutTelemetryRecords")]
    return probes


def _decrypt(key_arn: str, via: str, why: str) -> Probe:
    return Probe("kms:Decrypt", key_arn, (("kms:ViaService", via),), why)


# DynamoDB operations that write items (transactions are recorded per item as these); every other DynamoDB call
# reads. Reads need the table's key to decrypt, writes to encrypt as well.
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
DYNAMODB_READ_KEY_ACTIONS = ("Decrypt", "DescribeKey")
DYNAMODB_WRITE_KEY_ACTIONS = ("Encrypt", "GenerateDataKey")


def _table_key_probes(fn: DeployedFunction, action: str, table_arn: str) -> list[Probe]:
    """The service key through DynamoDB that one call on an encrypted table needs (none for an unencrypted one)."""
    table = table_arn.split(":table/", 1)[1].split("/", 1)[0]
    key_arn = fn.table_keys.get(table)
    if key_arn is None:
        return []
    operation = action.split(":", 1)[1]
    kms_actions = DYNAMODB_READ_KEY_ACTIONS + (DYNAMODB_WRITE_KEY_ACTIONS if operation in DYNAMODB_WRITES else ())
    via = (("kms:ViaService", f"dynamodb.{fn.region}.amazonaws.com"),)
    return [Probe(f"kms:{a}", key_arn, via, f"table {table}'s key, for {operation}") for a in kms_actions]


SecretLookup = Callable[[str], tuple[str, str | None]]


def code_requests(
    fn: DeployedFunction,
    recorded: Iterable[IamRequest],
    lookup_secret: SecretLookup | None = None,
    *,
    with_shared: bool = True,
) -> tuple[list[Probe], list[str]]:
    """The recorded requests of this function (and, unless told otherwise, the shared ones) as probes on the
    deployed resources; plus the problems of requests that cannot be turned into one (unknown operations)."""
    probes: dict[tuple[Any, ...], Probe] = {}
    problems: list[str] = []
    functions = (fn.key, SHARED) if with_shared else (fn.key,)
    for request in recorded:
        if request.function not in functions:
            continue
        if request.resource is not None and request.resource.kind == "queue" and fn.queue_arn is None:
            continue  # the shared batch plumbing's calls on a record's queue: only functions fed by a queue run it
        if request.action.split(":", 1)[1].startswith(UNKNOWN) or request.resource is None:
            problems.append(
                f"{fn.key}: {request.action.replace(UNKNOWN + ':', '')} has no IAM rule in tests/support/aws_calls.py;"
                " add how AWS authorises it there"
            )
            continue
        why = f"code: {request.operation}"
        for probe in _probes_for(fn, request, why, lookup_secret):
            probes.setdefault(probe.key(), probe)
    return list(probes.values()), problems


def _probes_for(fn: DeployedFunction, request: IamRequest, why: str, lookup: SecretLookup | None) -> list[Probe]:
    ref = request.resource
    assert ref is not None
    arn = resource_arn(fn, ref)
    if ref.kind == "secret":
        if lookup is None:
            raise AssertionError(f"{fn.key}: a secret is read ({ref.name}) but no way to look it up was given")
        arn, key_arn = lookup(arn)
        probes = [Probe(request.action, arn, request.conditions, why)]
        if key_arn:
            probes.append(_decrypt(key_arn, f"secretsmanager.{fn.region}.amazonaws.com", "secret's key"))
        return probes
    probe = Probe(request.action, arn, request.conditions, why)
    if ref.kind in ("table", "index"):
        return [probe, *_table_key_probes(fn, request.action, arn)]
    if request.action == "sqs:SendMessage" and fn.queue_key_arn:  # SQS encrypts the new message with the key
        via = (("kms:ViaService", f"sqs.{fn.region}.amazonaws.com"),)
        return [probe, Probe("kms:GenerateDataKey", fn.queue_key_arn, via, "SendMessage to the encrypted queue")]
    return [probe]


def resource_arn(fn: DeployedFunction, ref: ResourceRef) -> str:
    """The deployed resource a recorded reference stands for (a name from a variable takes the deployed value)."""
    if ref.kind == "queue" and ref.env_var == SOURCE_QUEUE:
        assert fn.queue_arn is not None, f"{fn.key} has no source queue, yet its code called SQS on one"
        return fn.queue_arn
    name = fn.environment.get(ref.env_var, ref.name) if ref.env_var else ref.name
    if name.startswith("arn:"):
        return name
    prefix = f"arn:aws:{{}}:{fn.region}:{fn.account}"
    if ref.kind == "table":
        return f"{prefix.format('dynamodb')}:table/{name}"
    if ref.kind == "index":
        return f"{prefix.format('dynamodb')}:table/{name}/index/{ref.index}"
    if ref.kind == "event-bus":
        return f"{prefix.format('events')}:event-bus/{name}"
    if ref.kind == "secret":
        return name  # a name: the lookup turns it into the ARN
    if ref.kind == "parameter":  # an SSM parameter: a path name keeps its leading slash after "parameter"
        return f"{prefix.format('ssm')}:parameter{name if name.startswith('/') else '/' + name}"
    raise AssertionError(f"no ARN rule for resource kind {ref.kind!r}")


# --- evaluation ---------------------------------------------------------------------------------------------


def _statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [dict(s) for s in (statements if isinstance(statements, list) else [statements])]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def unsupported(policies: Iterable[Mapping[str, Any]]) -> list[str]:
    """Policy elements the evaluator cannot judge faithfully; the check refuses such a policy."""
    found = []
    for policy in policies:
        for s in _statements(policy):
            for element in ("NotAction", "NotResource", "NotPrincipal"):
                if element in s:
                    found.append(f"{s.get('Sid', '?')}: {element}")
            for operator in s.get("Condition", {}):
                if operator not in SUPPORTED_OPERATORS:
                    found.append(f"{s.get('Sid', '?')}: condition operator {operator}")
    return found


def permitted(policies: Iterable[Mapping[str, Any]], probe: Probe) -> bool:
    """True when the policies together allow the probe (an explicit Deny anywhere wins)."""
    policies = list(policies)
    keys = {k for p in policies for s in _statements(p) for cond in s.get("Condition", {}).values() for k in cond}
    values = dict.fromkeys(keys, ABSENT) | dict(probe.conditions)
    allowed = False
    for policy in policies:
        if _explicitly_denied(policy, probe, values):
            return False
        # One statement at a time: moto answers DENIED for a whole policy as soon as one matching Allow's condition
        # fails, even when a later statement allows the request (two kms:Decrypt statements through other services).
        for statement in _statements(policy):
            if statement.get("Effect") != "Allow":
                continue
            single = {"Version": "2012-10-17", "Statement": [statement]}
            result = IAMPolicy(json.dumps(single)).is_action_permitted(
                probe.action, probe.resource, incoming_condition_values=values
            )
            allowed = allowed or result is PermissionResult.PERMITTED
    return allowed


def _explicitly_denied(policy: Mapping[str, Any], probe: Probe, values: dict[str, str]) -> bool:
    """moto answers DENIED also when an Allow's condition fails; only a matching Deny statement really denies."""
    for s in _statements(policy):
        if s.get("Effect") == "Deny":
            single = {"Version": "2012-10-17", "Statement": [s | {"Effect": "Allow"}]}
            result = IAMPolicy(json.dumps(single)).is_action_permitted(
                probe.action, probe.resource, incoming_condition_values=values
            )
            if result is PermissionResult.PERMITTED:
                return True
    return False


@dataclass
class Findings:
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    too_broad: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return (
            [f"missing: {m}" for m in self.missing]
            + [f"unused: {u}" for u in self.unused]
            + [f"too broad: {t}" for t in self.too_broad]
            + [f"cannot evaluate: {r}" for r in self.refused]
        )


def check(
    deployed: Mapping[str, DeployedFunction],
    recorded: Iterable[IamRequest],
    lookup_secret: SecretLookup | None = None,
) -> Findings:
    """Compare every function's applied policies with what it needs; see the module docstring."""
    recorded = list(recorded)
    findings = Findings()
    needs: dict[str, list[Probe]] = {}
    code_only: dict[str, list[Probe]] = {}
    for key, fn in deployed.items():
        probes, problems = code_requests(fn, recorded, lookup_secret)
        findings.refused += problems
        code_only[key] = code_requests(fn, recorded, lookup_secret, with_shared=False)[0]
        needs[key] = probes + platform_requests(fn)
    for key, fn in deployed.items():
        bad = unsupported(fn.policies)
        if bad:
            findings.refused += [f"{key}: {b}" for b in bad]
            continue
        for probe in needs[key]:
            if not permitted(fn.policies, probe):
                findings.missing.append(f"{key}: {probe}")
        for statement, action, resource in _grants(fn.policies):
            single = [{"Version": "2012-10-17", "Statement": [statement | {"Action": action, "Resource": resource}]}]
            if not any(permitted(single, probe) for probe in needs[key]):
                findings.unused.append(f"{key}: {statement.get('Sid', '?')} grants {action} on {resource}")
        own = {p.key() for p in needs[key]}
        for other, probes in code_only.items():
            for probe in probes:
                if other != key and probe.key() not in own and permitted(fn.policies, probe):
                    findings.too_broad.append(f"{key}: allows {probe}, which only {other} makes")
    return findings


def _grants(policies: Iterable[Mapping[str, Any]]) -> Iterable[tuple[dict[str, Any], str, str]]:
    for policy in policies:
        for s in _statements(policy):
            if s.get("Effect") != "Allow":
                continue
            for action in _listed(s.get("Action", [])):
                for resource in _listed(s.get("Resource", [])):
                    yield s, action, resource
