"""Rehearsal of the production environment: terraform/envs/aws, as `make deploy` applies it, into MiniStack.

The mock-provider tests prove what the plan says; this proves it applies: the ordering and wiring of the real
resources (S3 backend with its state bucket, the artifacts bucket, the key, tables, the four functions and their
reserved concurrency, the webhook HTTP API with its route, stage and permission, alarms, dashboard). Only what
MiniStack has no service for, or what needs a real account, is switched off, by the variables a real deploy never
sets (``REHEARSAL_VARIABLES``): Lambda code signing (MiniStack has Signer but no code signing configurations) and
the schema registry (no Schemas API). A request through the HTTP API then reaches the webhook function, which
refuses it for want of Stripe's signature: the route, the integration and the permission are wired.

Runs beside the other suites in `make test` (like the MiniStack behaviour suite), alone with `make rehearsal`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import stripe

from tests.support.ministack import ministack_endpoint  # noqa: F401
from tests.support.stack import LAMBDA_ZIP, ROOT, VARS_FILE, _json_from, run_tf

ENV = "-chdir=terraform/envs/aws"
STATE_BUCKET = "novamart-rehearsal-terraform-state"
REGION = "us-east-2"
FUNCTIONS = (
    "novamart-payment-handler",
    "novamart-refund-handler",
    "novamart-payment-webhooks",
    "novamart-payment-reconciler",
)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )


@pytest.fixture(scope="module")
def rehearsal(ministack_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:  # noqa: F811
    if not LAMBDA_ZIP.is_file():
        pytest.fail(f"{LAMBDA_ZIP.relative_to(ROOT)} is missing: run make package", pytrace=False)
    state_dir = tmp_path_factory.mktemp("rehearsal-aws")
    s3 = _client("s3", ministack_endpoint)
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    # The S3 backend of envs/aws, pointed at the emulator: the state is written as in production.
    backend = state_dir / "backend.hcl"
    backend.write_text(
        f'bucket = "{STATE_BUCKET}"\nkey = "payments/aws/terraform.tfstate"\nregion = "{REGION}"\nencrypt = true\n'
        f'endpoints = {{ s3 = "{ministack_endpoint}" }}\nuse_path_style = true\nskip_credentials_validation = true\n'
        "skip_requesting_account_id = true\nskip_region_validation = true\nskip_metadata_api_check = true\n"
        "skip_s3_checksum = true\n"
    )
    # Read by tests.support.stack.run_tf as TF_VAR_<name>: the rehearsal's only differences from production.
    rehearsal_variables = {
        "rehearsal_endpoint": ministack_endpoint,
        "enable_code_signing": "false",
        "enable_schema_registry": "false",
        "package_path": str(LAMBDA_ZIP),
    }
    (state_dir / VARS_FILE).write_text(json.dumps(rehearsal_variables))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TF_DATA_DIR", str(state_dir / ".terraform"))  # never the env folder's own .terraform

        def tf(*args: str, label: str | None = "", timeout: float = 900) -> str:
            return run_tf(
                ["tf", ENV, *args, "-no-color"],
                endpoint_url=ministack_endpoint,
                state_dir=state_dir,
                timeout=timeout,
                label=(label or args[0]) if label is not None else None,
            )[1]

        tf("init", "-input=false", f"-backend-config={backend}", timeout=300)
        tf("apply", "-input=false", "-auto-approve", label="apply envs/aws (rehearsal)")
        outputs = {k: v["value"] for k, v in _json_from(tf("output", "-json", label=None, timeout=120)).items()}
    yield {"outputs": outputs, "endpoint": ministack_endpoint}


def test_the_state_is_written_to_the_s3_backend(rehearsal: dict[str, Any]) -> None:
    s3 = _client("s3", rehearsal["endpoint"])
    state = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key="payments/aws/terraform.tfstate")["Body"].read())
    assert state["resources"], "the apply wrote no resources to the backend"


def test_every_function_runs_under_its_key_with_its_reservation(rehearsal: dict[str, Any]) -> None:
    lam = _client("lambda", rehearsal["endpoint"])
    key = _client("kms", rehearsal["endpoint"]).describe_key(KeyId="alias/novamart-payments")["KeyMetadata"]["Arn"]
    for name in FUNCTIONS:
        config = lam.get_function_configuration(FunctionName=name)
        assert config["KMSKeyArn"] == key, (name, config.get("KMSKeyArn"))
        assert config["Environment"]["Variables"]["GATEWAY_MODE"] == "stripe"
        reserved = lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"]
        # Sized from the gateway budget (80/s / 2 requests x 2 x 300 ms: docs/gateway.md) and applied as planned.
        assert reserved == rehearsal["outputs"]["concurrency"]["reserved_concurrency"] == 24, (name, reserved)
    mappings = [
        m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].rsplit(":", 1)[-1] in FUNCTIONS
    ]
    assert len(mappings) == 2  # the payment and refund queues
    for mapping in mappings:
        scaling = mapping.get("ScalingConfig", {}).get("MaximumConcurrency")
        assert scaling == rehearsal["outputs"]["concurrency"]["maximum_concurrency"] == 24, (mapping, scaling)


def test_the_tables_are_encrypted_with_the_service_key(rehearsal: dict[str, Any]) -> None:
    ddb = _client("dynamodb", rehearsal["endpoint"])
    key = _client("kms", rehearsal["endpoint"]).describe_key(KeyId="alias/novamart-payments")["KeyMetadata"]["Arn"]
    for table in ("payments", "refunds", "payment-webhook-events"):
        sse = ddb.describe_table(TableName=table)["Table"]["SSEDescription"]
        assert sse["SSEType"] == "KMS" and key.endswith(sse["KMSMasterKeyArn"].rsplit("/", 1)[-1]), (table, sse)


def test_the_artifacts_bucket_is_versioned(rehearsal: dict[str, Any]) -> None:
    bucket = rehearsal["outputs"]["artifact_bucket"]
    assert _client("s3", rehearsal["endpoint"]).get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_no_audit_tap_in_aws(rehearsal: dict[str, Any]) -> None:
    assert rehearsal["outputs"].get("audit_queue_url") is None  # terraform output -json leaves null outputs out
    queues = _client("sqs", rehearsal["endpoint"]).list_queues().get("QueueUrls", [])
    assert not [q for q in queues if "audit" in q], queues


def test_the_webhook_function_may_be_invoked_by_its_api_route_only(rehearsal: dict[str, Any]) -> None:
    lam = _client("lambda", rehearsal["endpoint"])
    policy = json.loads(lam.get_policy(FunctionName="novamart-payment-webhooks")["Policy"])
    api_id = rehearsal["outputs"]["webhook_url"].split("//", 1)[1].split(".", 1)[0]
    statements = policy["Statement"]
    assert len(statements) == 1, statements
    (statement,) = statements
    assert statement["Principal"] in ({"Service": "apigateway.amazonaws.com"}, "apigateway.amazonaws.com"), statement
    assert statement["Action"] == "lambda:InvokeFunction", statement
    assert json.dumps(statement.get("Condition", {})).count(f":{api_id}/*/POST/stripe/webhooks") == 1, statement
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName="novamart-payment-webhooks")


def _post(endpoint: str, webhook_url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST through MiniStack's execute-api route for the API (stage $default) the webhook URL names."""
    api_id = webhook_url.split("//", 1)[1].split(".", 1)[0]
    path = urllib.parse.urlsplit(webhook_url).path  # MiniStack's API host is <id>.execute-api.localhost
    request = urllib.request.Request(
        f"{endpoint}/_aws/execute-api/{api_id}/$default{path}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_a_request_through_the_http_api_reaches_the_webhook_function(rehearsal: dict[str, Any]) -> None:
    """With the endpoint's signing secret in place (docs/go-live.md, step 6): an unsigned request is refused by the
    function (400), a signed event of a kind the service ignores is acknowledged (200, after its id was claimed in
    the webhook-events table): route → integration → permission → function → secret and table."""
    endpoint, url = rehearsal["endpoint"], rehearsal["outputs"]["webhook_url"]
    secret = rehearsal["outputs"]["secret_names"]["webhook_signing"]
    _client("secretsmanager", endpoint).put_secret_value(SecretId=secret, SecretString="whsec_rehearsal_only")
    event = {
        "id": f"evt_rehearsal_{int(time.time())}",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {}},
    }
    body = json.dumps(event).encode()
    status, answer = _post(endpoint, url, body, {"Content-Type": "application/json"})
    assert (status, b"signature" in answer) == (400, True), (status, answer[:500])
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_rehearsal_only", int(time.time()))
    status, answer = _post(endpoint, url, body, {"Content-Type": "application/json", "Stripe-Signature": header})
    assert status == 200, (status, answer[:500])
