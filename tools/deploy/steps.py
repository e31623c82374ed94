"""`make deploy`: terraform/envs/aws into a real account, in the order docs/go-live.md gives.

preflight → package → sign → plan → apply → the next manual step:

1. **preflight**: the zip is built, backend settings exist, the emulator endpoint and dummy keys of the Makefile are
   dropped, AWS credentials answer (the account is printed), the state bucket exists and is versioned.
2. **package**: build/lambda.zip goes to the versioned artifacts bucket (``unsigned/``, named by its SHA-256). On a
   first deploy the bucket and the signing profile do not exist yet: they are created first, alone
   (``-target=module.artifacts -target=module.code_signing``), since nothing can be signed before them.
3. **sign**: an AWS Signer job signs that object version with the environment's profile; the tool waits for it.
4. **plan**: ``terraform plan`` with the signed object as ``signed_package`` (build/deploy.tfvars.json), then the
   account's unreserved concurrency is checked against what the plan reserves (AWS keeps 100 unreserved).
5. **apply** of exactly that plan, after a ``yes`` (``AUTO_APPROVE=1`` in CI with a reviewed plan).
6. the next manual step of docs/go-live.md is printed (a secret without a value, the webhook to register, the
   on-call subscription, the smoke test).

Any failed check stops the deploy with a message naming what to do; nothing after it runs. Every AWS call goes
through boto3 clients made by one factory, so tests/unit/test_deploy_aws.py drives each step with botocore's
Stubber, and Terraform through one runner the tests replace (the real ones: ``tools/deploy/__main__.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = ROOT / "terraform" / "envs" / "aws"
GO_LIVE = "docs/go-live.md"
# AWS refuses a reservation that leaves fewer unreserved executions than this (Lambda developer guide).
MIN_UNRESERVED = 100
SIGNING_DONE = {"Succeeded", "Failed"}


class DeployError(Exception):
    """A check or step failed: the message says what is wrong and what to do."""


class Terraform(Protocol):
    def __call__(self, args: list[str], *, capture: bool = False) -> str: ...


@dataclass
class Settings:
    zip_path: Path = ROOT / "build" / "lambda.zip"
    backend_file: Path = ENV_DIR / "backend.hcl"
    plan_path: Path = ROOT / "build" / "aws.tfplan"
    var_file: Path = ROOT / "build" / "deploy.tfvars.json"
    extra_var_files: list[Path] = field(default_factory=list)
    signing_profile: str | None = None
    auto_approve: bool = False
    signing_timeout_seconds: float = 600.0
    poll_seconds: float = 3.0


@dataclass(frozen=True)
class SignedPackage:
    bucket: str
    key: str
    object_version: str

    def as_variable(self) -> dict[str, str]:
        return {"bucket": self.bucket, "key": self.key, "object_version": self.object_version}


def backend_settings(path: Path) -> dict[str, str]:
    """The string settings of a backend.hcl (``name = "value"`` lines; comments ignored)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r'\s*([a-z_]+)\s*=\s*"([^"]*)"', line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def aws_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment for a real account: the Makefile's emulator endpoint and dummy keys removed, and the
    rehearsal's emulator switch (TF_VAR_rehearsal_endpoint) too."""
    env = {
        k: v for k, v in environ.items() if not k.startswith("AWS_ENDPOINT_URL") and k != "TF_VAR_rehearsal_endpoint"
    }
    if env.get("AWS_ACCESS_KEY_ID") == "test" and env.get("AWS_SECRET_ACCESS_KEY") == "test":
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
    return env


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(exc).__name__))


class Deployer:
    """One deploy; each public step can be driven on its own by the tests."""

    def __init__(
        self,
        settings: Settings,
        client: Callable[[str], Any],
        terraform: Terraform,
        *,
        confirm: Callable[[str], bool],
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client
        self.terraform = terraform
        self.confirm = confirm
        self.out = out
        self.sleep = sleep
        self.clock = clock

    # --- the whole run ----------------------------------------------------------------------------------------

    def run(self) -> None:
        stage = "preflight"
        try:
            self.preflight()
            stage = "package"
            outputs = self.bootstrap()
            source = self.upload(outputs["artifact_bucket"])
            stage = "sign"
            signed = self.sign(source, self.signing_profile(outputs))
            stage = "plan"
            plan = self.plan(signed)
            self.check_concurrency(plan)
            stage = "apply"
            self.apply()
            stage = "next step"
            self.out(self.next_step(self.outputs()))
        except DeployError as exc:
            raise DeployError(f"stopped at {stage}: {exc}") from exc

    # --- 1. preflight -----------------------------------------------------------------------------------------

    def preflight(self) -> dict[str, str]:
        s = self.settings
        if not s.zip_path.is_file():
            raise DeployError(f"{s.zip_path} is missing: run make package (make deploy builds it first)")
        if not s.backend_file.is_file():
            raise DeployError(
                f"no backend settings at {s.backend_file}: copy terraform/envs/aws/backend.hcl.example to it and fill "
                f"in the state bucket ({GO_LIVE}, step 1)"
            )
        backend = backend_settings(s.backend_file)
        bucket = backend.get("bucket", "")
        if not bucket or "<" in bucket:
            raise DeployError(f"{s.backend_file} names no state bucket (bucket = ...): fill it in ({GO_LIVE}, step 1)")
        try:
            identity = self.client("sts").get_caller_identity()
        except Exception as exc:  # NoCredentialsError, ExpiredToken, ...
            raise DeployError(
                f"no usable AWS credentials ({_error_code(exc)}): log in to the target account first "
                "(aws sso login, or AWS_PROFILE=...)"
            ) from exc
        self.out(f">> account {identity['Account']} as {identity['Arn']}")
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception as exc:
            raise DeployError(
                f"state bucket {bucket} cannot be reached ({_error_code(exc)}): create it in this account, "
                f"versioned and encrypted ({GO_LIVE}, step 1), or fix backend.hcl"
            ) from exc
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            raise DeployError(
                f"state bucket {bucket} is not versioned, so a bad state write could not be undone: "
                f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"
            )
        self.out(f">> preflight passed: state in s3://{bucket}/{backend.get('key', '')}")
        return dict(identity)

    # --- 2. package ---------------------------------------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self.terraform(["output", "-json"], capture=True) or "{}")
        return {name: entry.get("value") for name, entry in raw.items()}

    def bootstrap(self) -> dict[str, Any]:
        """init with the backend; on a first deploy create the artifacts bucket and the signing profile alone."""
        self.terraform(["init", "-input=false", "-reconfigure", f"-backend-config={self.settings.backend_file}"])
        outputs = self.outputs()
        if outputs.get("artifact_bucket"):
            return outputs
        self.out(
            ">> first deploy: nothing can be signed before the signing profile and the artifacts bucket exist; "
            "creating those two alone (terraform apply -target=module.artifacts -target=module.code_signing)"
        )
        targets = ["-target=module.artifacts", "-target=module.code_signing"]
        if not (self.settings.auto_approve or self.confirm("Create the artifacts bucket and the signing profile?")):
            raise DeployError("bootstrap not confirmed: nothing was created")
        self.terraform(["apply", "-input=false", "-auto-approve", *self._var_files(), *targets])
        outputs = self.outputs()
        if not outputs.get("artifact_bucket"):
            raise DeployError("the bootstrap apply left no artifact_bucket output: see the Terraform output above")
        return outputs

    def upload(self, bucket: str) -> SignedPackage:
        data = self.settings.zip_path.read_bytes()
        key = f"unsigned/lambda-{hashlib.sha256(data).hexdigest()[:16]}.zip"
        answer = self.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        version = answer.get("VersionId")
        if not version or version == "null":
            raise DeployError(
                f"s3://{bucket} gave no object version: AWS Signer signs only from a versioned bucket "
                "(the artifacts module enables versioning: re-apply it)"
            )
        self.out(f">> package: s3://{bucket}/{key} version {version} ({len(data) / 2**20:.1f} MiB)")
        return SignedPackage(bucket, key, version)

    # --- 3. sign ------------------------------------------------------------------------------------------------

    def signing_profile(self, outputs: Mapping[str, Any]) -> str:
        profile = self.settings.signing_profile or outputs.get("code_signing_profile_name")
        if not profile:
            raise DeployError(
                "no signing profile: the environment allows existing profiles (code_signing_profile_version_arns); "
                "pass the one to sign with: make deploy SIGNING_PROFILE=<name>"
            )
        return str(profile)

    def sign(self, source: SignedPackage, profile: str) -> SignedPackage:
        signer = self.client("signer")
        job = signer.start_signing_job(
            source={"s3": {"bucketName": source.bucket, "key": source.key, "version": source.object_version}},
            destination={"s3": {"bucketName": source.bucket, "prefix": "signed/"}},
            profileName=profile,
            # The same object version gives the same token: a rerun after an interruption finds the first job.
            clientRequestToken=hashlib.sha256(f"{source.key}@{source.object_version}".encode()).hexdigest()[:32],
        )
        job_id = job["jobId"]
        self.out(f">> signing job {job_id} with profile {profile}")
        deadline = self.clock() + self.settings.signing_timeout_seconds
        while True:
            described = signer.describe_signing_job(jobId=job_id)
            status = described.get("status")
            if status in SIGNING_DONE:
                break
            if self.clock() >= deadline:
                raise DeployError(
                    f"signing job {job_id} still {status} after {self.settings.signing_timeout_seconds:.0f} s: "
                    "see aws signer describe-signing-job --job-id " + job_id
                )
            self.sleep(self.settings.poll_seconds)
        if status != "Succeeded":
            raise DeployError(f"signing job {job_id} failed: {described.get('statusReason', 'no reason given')}")
        signed = described["signedObject"]["s3"]
        head = self.client("s3").head_object(Bucket=signed["bucketName"], Key=signed["key"])
        version = head.get("VersionId")
        if not version:
            raise DeployError(f"the signed object s3://{signed['bucketName']}/{signed['key']} has no version")
        self.out(f">> signed: s3://{signed['bucketName']}/{signed['key']} version {version}")
        return SignedPackage(signed["bucketName"], signed["key"], version)

    # --- 4. plan and the concurrency check ----------------------------------------------------------------------

    def _var_files(self) -> list[str]:
        return [f"-var-file={p}" for p in self.settings.extra_var_files]

    def plan(self, signed: SignedPackage) -> dict[str, Any]:
        s = self.settings
        s.var_file.parent.mkdir(parents=True, exist_ok=True)
        s.var_file.write_text(json.dumps({"signed_package": signed.as_variable()}, indent=2) + "\n")
        self.terraform(["plan", "-input=false", *self._var_files(), f"-var-file={s.var_file}", f"-out={s.plan_path}"])
        return dict(json.loads(self.terraform(["show", "-json", str(s.plan_path)], capture=True)))

    def check_concurrency(self, plan: Mapping[str, Any]) -> None:
        """What the plan reserves must leave AWS's 100 unreserved executions (reservations the functions hold
        already are part of what the account has reserved, so they are given back first)."""
        wanted: dict[str, int] = {}
        for change in plan.get("resource_changes", []):
            after = (change.get("change") or {}).get("after") or {}
            if change.get("type") == "aws_lambda_function" and "delete" not in change["change"]["actions"]:
                reserved = after.get("reserved_concurrent_executions")
                if reserved is not None and reserved >= 0:
                    wanted[after["function_name"]] = int(reserved)
        if not wanted:
            return
        lam = self.client("lambda")
        limit = lam.get_account_settings()["AccountLimit"]
        held = 0
        for name in wanted:
            try:
                held += int(lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") or 0)
            except Exception as exc:
                if _error_code(exc) != "ResourceNotFoundException":
                    raise
        unreserved_after = int(limit["UnreservedConcurrentExecutions"]) + held - sum(wanted.values())
        total = sum(wanted.values())
        if unreserved_after < MIN_UNRESERVED:
            raise DeployError(
                f"the functions reserve {total} concurrent executions ({len(wanted)} x reserved_concurrency), which "
                f"would leave {unreserved_after} unreserved of the account's {limit['ConcurrentExecutions']}; AWS "
                f"keeps at least {MIN_UNRESERVED}. Ask for a Lambda concurrency quota of at least "
                f"{int(limit['ConcurrentExecutions']) - unreserved_after + MIN_UNRESERVED} (Service Quotas), or set "
                f"reserved_concurrency lower, with maximum_concurrency at most as high (by default both are sized "
                f"from the gateway budget; {GO_LIVE}, step 2)"
            )
        self.out(f">> concurrency: {total} reserved, {unreserved_after} left unreserved (AWS keeps {MIN_UNRESERVED})")

    # --- 5. apply -----------------------------------------------------------------------------------------------

    def apply(self) -> None:
        if not self.settings.auto_approve and not self.confirm("Apply this plan to the account above?"):
            raise DeployError("not applied (answer 'yes', or AUTO_APPROVE=1 with a reviewed plan)")
        self.terraform(["apply", "-input=false", str(self.settings.plan_path)])

    # --- 6. the next manual step --------------------------------------------------------------------------------

    def _has_value(self, secret: str) -> bool:
        versions = self.client("secretsmanager").list_secret_version_ids(SecretId=secret)["Versions"]
        return any("AWSCURRENT" in v.get("VersionStages", []) for v in versions)

    def next_step(self, outputs: Mapping[str, Any]) -> str:
        secrets = outputs.get("secret_names") or {}
        key, signing = secrets.get("api_key"), secrets.get("webhook_signing")
        if key and not self._has_value(key):
            return (
                f"Next ({GO_LIVE}, step 5): put the Stripe TEST-mode key in {key} (from a shell without history): "
                f'aws secretsmanager put-secret-value --secret-id {key} --secret-string "$STRIPE_KEY"'
            )
        if signing and not self._has_value(signing):
            return (
                f"Next ({GO_LIVE}, step 6): register {outputs.get('webhook_url')} in Stripe (Developers > Webhooks, "
                f"the events of docs/gateway.md), then put its signing secret (whsec_...) in {signing}"
            )
        topic = outputs.get("alarm_topic_arn")
        if topic and not self.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            return (
                f"Next ({GO_LIVE}, step 7): nobody receives the alarms yet: subscribe on-call to {topic} "
                "(alarm_subscriptions, or alarm_topic_arn = the on-call topic)"
            )
        return (
            f"Next ({GO_LIVE}, step 8): the smoke test, one order through the deployed stack with the Stripe test-mode "
            "key; then the live key (step 9)"
        )
