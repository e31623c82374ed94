"""`make deploy` (tools/deploy) against recorded AWS answers: botocore's Stubber answers every call, in the
order the deploy makes them, and a fake Terraform records what it was asked. A call the stub does not expect
fails the test, so each test also proves that nothing after a failed check runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tools.deploy.steps import Deployer, DeployError, Settings, aws_environment, backend_settings

BUCKET = "novamart-terraform-state-123456789012"
ARTIFACTS = "novamart-payments-artifacts-123456789012-us-east-2"
PROFILE = "novamart_payments_20261202"
FUNCTIONS = (
    "novamart-payment-handler",
    "novamart-refund-handler",
    "novamart-payment-webhooks",
    "novamart-payment-reconciler",
)
OUTPUTS = {
    "artifact_bucket": ARTIFACTS,
    "code_signing_profile_name": PROFILE,
    "webhook_url": "https://abc.execute-api.us-east-2.amazonaws.com/stripe/webhooks",
    "alarm_topic_arn": "arn:aws:sns:us-east-2:123456789012:novamart-payments-alarms",
    "secret_names": {
        "api_key": "novamart/payments/stripe-secret-key",
        "webhook_signing": "novamart/payments/stripe-webhook-signing-secret",
    },
}


class FakeTerraform:
    """Records every command; `output -json` answers from a list (one per call), `show -json` the plan."""

    def __init__(self, outputs: list[dict[str, Any]], reserved: int = 10) -> None:
        self.calls: list[list[str]] = []
        self._outputs = list(outputs)
        self.plan = {
            "resource_changes": [
                {
                    "type": "aws_lambda_function",
                    "change": {
                        "actions": ["create"],
                        "after": {"function_name": f, "reserved_concurrent_executions": reserved},
                    },
                }
                for f in FUNCTIONS
            ]
        }

    def __call__(self, args: list[str], *, capture: bool = False) -> str:
        self.calls.append(args)
        if args[0] == "output":
            values = self._outputs.pop(0)
            return json.dumps({k: {"value": v} for k, v in values.items()})
        if args[0] == "show":
            return json.dumps(self.plan)
        return ""

    def verbs(self) -> list[str]:
        return [
            " ".join(a for a in c if not a.startswith("-var-file") and not a.startswith("-out")) for c in self.calls
        ]


class Aws:
    """One stubbed client per service, made on first use; every stub must be used up at the end."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def __call__(self, service: str) -> Any:
        if service not in self.clients:
            client = boto3.client(service, region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x")
            self.clients[service] = client
            self.stubs[service] = Stubber(client)
            self.stubs[service].activate()
        return self.clients[service]

    def answer(
        self, service: str, operation: str, response: dict[str, Any], params: dict[str, Any] | None = None
    ) -> None:
        self(service)
        self.stubs[service].add_response(operation, response, params)

    def fail(self, service: str, operation: str, code: str, status: int = 400) -> None:
        self(service)
        self.stubs[service].add_client_error(operation, service_error_code=code, http_status_code=status)

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def aws() -> Iterator[Aws]:
    stubs = Aws()
    yield stubs
    stubs.done()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    zip_path = tmp_path / "lambda.zip"
    zip_path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    backend = tmp_path / "backend.hcl"
    backend.write_text(
        f'bucket       = "{BUCKET}"\nkey          = "payments/aws/terraform.tfstate"\nuse_lockfile = true\n'
    )
    return Settings(
        zip_path=zip_path,
        backend_file=backend,
        plan_path=tmp_path / "aws.tfplan",
        var_file=tmp_path / "deploy.tfvars.json",
        poll_seconds=1.0,
        signing_timeout_seconds=30.0,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def deployer(
    settings: Settings, aws: Aws, terraform: FakeTerraform, answers: list[bool] | None = None
) -> tuple[Deployer, list[str]]:
    printed: list[str] = []
    replies = list(answers if answers is not None else [True, True])
    clock = Clock()
    d = Deployer(
        settings,
        aws,
        terraform,
        confirm=lambda _q: replies.pop(0),
        out=printed.append,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    return d, printed


def preflight_answers(aws: Aws) -> None:
    aws.answer(
        "sts",
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops", "UserId": "X"},
    )
    aws.answer("s3", "head_bucket", {}, {"Bucket": BUCKET})
    aws.answer("s3", "get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": BUCKET})


def package_and_sign_answers(aws: Aws, *, status_sequence: tuple[str, ...] = ("InProgress", "Succeeded")) -> None:
    aws.answer("s3", "put_object", {"VersionId": "v-unsigned"}, {"Bucket": ARTIFACTS, "Key": ANY, "Body": ANY})
    aws.answer(
        "signer",
        "start_signing_job",
        {"jobId": "job-1"},
        {
            "source": {"s3": {"bucketName": ARTIFACTS, "key": ANY, "version": "v-unsigned"}},
            "destination": {"s3": {"bucketName": ARTIFACTS, "prefix": "signed/"}},
            "profileName": PROFILE,
            "clientRequestToken": ANY,
        },
    )
    for status in status_sequence:
        answer: dict[str, Any] = {"jobId": "job-1", "status": status}
        if status == "Succeeded":
            answer["signedObject"] = {"s3": {"bucketName": ARTIFACTS, "key": "signed/job-1.zip"}}
        if status == "Failed":
            answer["statusReason"] = "Signature validity period expired"
        aws.answer("signer", "describe_signing_job", answer, {"jobId": "job-1"})
    if status_sequence[-1] == "Succeeded":
        aws.answer("s3", "head_object", {"VersionId": "v-signed"}, {"Bucket": ARTIFACTS, "Key": "signed/job-1.zip"})


def concurrency_answers(aws: Aws, *, limit: int = 1000, unreserved: int = 1000, held: int | None = None) -> None:
    aws.answer(
        "lambda",
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}},
    )
    for name in FUNCTIONS:
        if held is None:
            aws.fail("lambda", "get_function_concurrency", "ResourceNotFoundException", 404)
        else:
            aws.answer(
                "lambda", "get_function_concurrency", {"ReservedConcurrentExecutions": held}, {"FunctionName": name}
            )


def secret_answers(aws: Aws, *values: bool) -> None:
    for name, has_value in zip(("stripe-secret-key", "stripe-webhook-signing-secret"), values, strict=False):
        versions = [{"VersionId": "0" * 32, "VersionStages": ["AWSCURRENT"]}] if has_value else []
        aws.answer(
            "secretsmanager",
            "list_secret_version_ids",
            {"Versions": versions},
            {"SecretId": f"novamart/payments/{name}"},
        )


# --- the whole walk -------------------------------------------------------------------------------------------


def test_a_deploy_walks_preflight_package_sign_plan_apply_then_names_the_next_step(
    aws: Aws, settings: Settings
) -> None:
    preflight_answers(aws)
    package_and_sign_answers(aws)
    concurrency_answers(aws)
    secret_answers(aws, False)
    tf = FakeTerraform([OUTPUTS, OUTPUTS])
    d, printed = deployer(settings, aws, tf, answers=[True])
    d.run()
    assert tf.verbs() == [
        f"init -input=false -reconfigure -backend-config={settings.backend_file}",
        "output -json",
        "plan -input=false",
        f"show -json {settings.plan_path}",
        f"apply -input=false {settings.plan_path}",
        "output -json",
    ]
    assert json.loads(settings.var_file.read_text()) == {
        "signed_package": {"bucket": ARTIFACTS, "key": "signed/job-1.zip", "object_version": "v-signed"}
    }
    assert any(f"-var-file={settings.var_file}" in a for a in tf.calls[2])
    text = "\n".join(printed)
    for step in (
        "account 123456789012",
        "preflight passed",
        "package: s3://",
        "signing job job-1",
        "signed: s3://",
        "concurrency: 40 reserved, 960 left",
    ):
        assert step in text, text
    assert printed[-1].startswith("Next (docs/go-live.md, step 5): put the Stripe TEST-mode key"), printed[-1]


def test_the_first_deploy_creates_the_bucket_and_profile_alone_before_signing(aws: Aws, settings: Settings) -> None:
    preflight_answers(aws)
    package_and_sign_answers(aws)
    tf = FakeTerraform([{}, OUTPUTS])
    d, printed = deployer(settings, aws, tf, answers=[True])
    d.preflight()
    outputs = d.bootstrap()
    d.sign(d.upload(outputs["artifact_bucket"]), d.signing_profile(outputs))
    assert tf.verbs()[2] == "apply -input=false -auto-approve -target=module.artifacts -target=module.code_signing"
    assert "first deploy" in "\n".join(printed)


def test_a_bootstrap_not_confirmed_creates_nothing(aws: Aws, settings: Settings) -> None:
    preflight_answers(aws)
    tf = FakeTerraform([{}])
    d, _ = deployer(settings, aws, tf, answers=[False])
    with pytest.raises(DeployError, match="stopped at package: bootstrap not confirmed"):
        d.run()
    assert [c[0] for c in tf.calls] == ["init", "output"]


# --- each failed preflight stops everything -------------------------------------------------------------------


def test_no_zip_stops_before_any_call(aws: Aws, settings: Settings) -> None:
    settings.zip_path.unlink()
    tf = FakeTerraform([])
    with pytest.raises(DeployError, match=r"stopped at preflight: .*lambda.zip is missing: run make package"):
        deployer(settings, aws, tf)[0].run()
    assert tf.calls == []


def test_no_backend_settings_names_the_example(aws: Aws, settings: Settings) -> None:
    settings.backend_file.unlink()
    with pytest.raises(DeployError, match=r"stopped at preflight: no backend settings .*backend.hcl.example.*step 1"):
        deployer(settings, aws, FakeTerraform([]))[0].run()


def test_a_placeholder_state_bucket_is_refused(aws: Aws, settings: Settings) -> None:
    settings.backend_file.write_text('bucket = "novamart-terraform-state-<account-id>"\n')
    with pytest.raises(DeployError, match=r"names no state bucket .* fill it in"):
        deployer(settings, aws, FakeTerraform([]))[0].run()


def test_no_credentials_says_to_log_in(aws: Aws, settings: Settings) -> None:
    aws.fail("sts", "get_caller_identity", "ExpiredToken", 403)
    tf = FakeTerraform([])
    with pytest.raises(DeployError, match=r"stopped at preflight: no usable AWS credentials \(ExpiredToken\): log in"):
        deployer(settings, aws, tf)[0].run()
    assert tf.calls == []


def test_a_missing_state_bucket_says_to_create_it(aws: Aws, settings: Settings) -> None:
    aws.answer(
        "sts",
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops", "UserId": "X"},
    )
    aws.fail("s3", "head_bucket", "404", 404)
    tf = FakeTerraform([])
    with pytest.raises(DeployError, match=rf"state bucket {BUCKET} cannot be reached \(404\): create it"):
        deployer(settings, aws, tf)[0].run()
    assert tf.calls == []


def test_an_unversioned_state_bucket_says_how_to_version_it(aws: Aws, settings: Settings) -> None:
    aws.answer(
        "sts",
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops", "UserId": "X"},
    )
    aws.answer("s3", "head_bucket", {}, {"Bucket": BUCKET})
    aws.answer("s3", "get_bucket_versioning", {}, {"Bucket": BUCKET})
    tf = FakeTerraform([])
    with pytest.raises(DeployError, match=r"is not versioned.*put-bucket-versioning"):
        deployer(settings, aws, tf)[0].run()
    assert tf.calls == []


# --- package and sign -----------------------------------------------------------------------------------------


def test_an_unversioned_artifacts_bucket_cannot_be_signed_from(aws: Aws, settings: Settings) -> None:
    aws.answer("s3", "put_object", {}, {"Bucket": ARTIFACTS, "Key": ANY, "Body": ANY})
    with pytest.raises(DeployError, match="gave no object version: AWS Signer signs only from a versioned bucket"):
        deployer(settings, aws, FakeTerraform([]))[0].upload(ARTIFACTS)


def test_a_failed_signing_job_stops_before_the_plan(aws: Aws, settings: Settings) -> None:
    preflight_answers(aws)
    package_and_sign_answers(aws, status_sequence=("InProgress", "Failed"))
    tf = FakeTerraform([OUTPUTS])
    with pytest.raises(
        DeployError, match="stopped at sign: signing job job-1 failed: Signature validity period expired"
    ):
        deployer(settings, aws, tf)[0].run()
    assert [c[0] for c in tf.calls] == ["init", "output"]


def test_a_signing_job_that_never_ends_times_out(aws: Aws, settings: Settings) -> None:
    settings.signing_timeout_seconds = 2.0
    package_and_sign_answers(aws, status_sequence=("InProgress", "InProgress", "InProgress"))
    d, _ = deployer(settings, aws, FakeTerraform([]))
    with pytest.raises(DeployError, match="signing job job-1 still InProgress after 2 s"):
        d.sign(d.upload(ARTIFACTS), PROFILE)


def test_existing_profiles_need_the_profile_named(aws: Aws, settings: Settings) -> None:
    d, _ = deployer(settings, aws, FakeTerraform([]))
    with pytest.raises(DeployError, match="SIGNING_PROFILE=<name>"):
        d.signing_profile({"artifact_bucket": ARTIFACTS, "code_signing_profile_name": None})
    settings.signing_profile = "theirs"
    assert d.signing_profile({"code_signing_profile_name": None}) == "theirs"


# --- concurrency before the apply -----------------------------------------------------------------------------


def test_an_account_without_room_for_the_reservations_stops_before_the_apply(aws: Aws, settings: Settings) -> None:
    """A new account's quota of 10: 4 x 10 reserved cannot leave AWS's 100 unreserved."""
    preflight_answers(aws)
    package_and_sign_answers(aws)
    concurrency_answers(aws, limit=10, unreserved=10)
    tf = FakeTerraform([OUTPUTS])
    with pytest.raises(
        DeployError,
        match=(
            r"stopped at plan: the functions reserve 40 .* leave -30 unreserved of the account's 10; "
            r"AWS keeps at least 100\. Ask for a Lambda concurrency quota of at least 140"
        ),
    ):
        deployer(settings, aws, tf)[0].run()
    assert "apply" not in [c[0] for c in tf.calls]


def test_reservations_the_functions_hold_already_are_given_back_first(aws: Aws, settings: Settings) -> None:
    """A redeploy: the account shows 100 unreserved because our own 4 x 10 are reserved; nothing changes."""
    concurrency_answers(aws, limit=140, unreserved=100, held=10)
    d, printed = deployer(settings, aws, FakeTerraform([]))
    d.check_concurrency(FakeTerraform([]).plan)
    assert printed == [">> concurrency: 40 reserved, 100 left unreserved (AWS keeps 100)"]


def test_one_execution_short_is_refused(aws: Aws, settings: Settings) -> None:
    concurrency_answers(aws, limit=139, unreserved=139)
    with pytest.raises(DeployError, match="quota of at least 140"):
        deployer(settings, aws, FakeTerraform([]))[0].check_concurrency(FakeTerraform([]).plan)


def test_a_plan_not_confirmed_is_not_applied(aws: Aws, settings: Settings) -> None:
    tf = FakeTerraform([])
    d, _ = deployer(settings, aws, tf, answers=[False])
    with pytest.raises(DeployError, match="not applied"):
        d.apply()
    assert tf.calls == []


# --- the next manual step -------------------------------------------------------------------------------------


def test_the_next_step_follows_the_go_live_order(aws: Aws, settings: Settings) -> None:
    d, _ = deployer(settings, aws, FakeTerraform([]))
    secret_answers(aws, True, False)
    assert "step 6): register https://abc.execute-api" in d.next_step(OUTPUTS)
    secret_answers(aws, True, True)
    aws.answer("sns", "list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": OUTPUTS["alarm_topic_arn"]})
    assert "step 7): nobody receives the alarms" in d.next_step(OUTPUTS)
    secret_answers(aws, True, True)
    aws.answer(
        "sns",
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": "arn:aws:sns:us-east-2:123456789012:x:1", "Protocol": "email"}]},
        {"TopicArn": OUTPUTS["alarm_topic_arn"]},
    )
    assert "step 8): the smoke test" in d.next_step(OUTPUTS)


# --- settings -------------------------------------------------------------------------------------------------


def test_the_makefile_emulator_settings_never_reach_a_real_account() -> None:
    env = aws_environment(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AWS_ENDPOINT_URL_S3": "x",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_PROFILE": "prod",
            "TF_VAR_rehearsal_endpoint": "http://127.0.0.1:4566",
            "PATH": "/bin",
        }
    )
    assert env == {"AWS_PROFILE": "prod", "PATH": "/bin"}
    assert aws_environment({"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"}) == {
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "s",
    }


def test_backend_settings_are_read_from_the_example_format(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "terraform" / "envs" / "aws" / "backend.hcl.example"
    settings = backend_settings(example)
    assert settings["key"] == "payments/aws/terraform.tfstate" and settings["bucket"].endswith("<account-id>")
