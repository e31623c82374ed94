"""The command line of `make deploy` (``python -m tools.deploy``): the real Terraform runner, the question, boto3."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tools.deploy.steps import ENV_DIR, ROOT, Deployer, DeployError, Settings, Terraform, aws_environment


def terraform_runner(env: Mapping[str, str]) -> Terraform:
    """tools/tf.sh (the provider mirror) in terraform/envs/aws; output shown unless captured."""

    def run(args: list[str], *, capture: bool = False) -> str:
        # -no-color right after the subcommand: Terraform reads no flag after a positional argument (a plan file).
        cmd = [str(ROOT / "tools" / "tf.sh"), "tf", f"-chdir={ENV_DIR}", args[0], "-no-color", *args[1:]]
        done = subprocess.run(cmd, env=dict(env), text=True, capture_output=capture, check=False)
        if done.returncode != 0:
            detail = (done.stderr or "").strip()[-2000:] if capture else "see the Terraform output above"
            raise DeployError(f"terraform {args[0]} failed: {detail}")
        return done.stdout if capture else ""

    return run


def ask(question: str) -> bool:
    if not sys.stdin.isatty():
        raise DeployError("not a terminal: review the plan and rerun with AUTO_APPROVE=1 to apply it")
    return input(f"{question} Type 'yes': ").strip() == "yes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make deploy", description="terraform/envs/aws into a real account (docs/go-live.md)"
    )
    parser.add_argument("--backend-config", type=Path, default=os.environ.get("TF_BACKEND_CONFIG") or None)
    parser.add_argument("--var-file", type=Path, action="append", default=[], help="more variables (repeatable)")
    parser.add_argument("--signing-profile", default=os.environ.get("SIGNING_PROFILE") or None)
    args = parser.parse_args(argv)
    settings = Settings(
        extra_var_files=[p.resolve() for p in args.var_file],
        signing_profile=args.signing_profile,
        auto_approve=os.environ.get("AUTO_APPROVE") == "1",
    )
    if args.backend_config:
        settings.backend_file = args.backend_config.resolve()
    env = aws_environment(os.environ)
    os.environ.clear()
    os.environ.update(env)
    import boto3

    session = boto3.Session()
    deployer = Deployer(settings, session.client, terraform_runner(env), confirm=ask)
    try:
        deployer.run()
    except DeployError as exc:
        print(f"make deploy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
