"""The setup half of ``make demo``: emulator, local Stripe, Terraform apply and the local Lambda service."""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from tools.devstack import ministack, moto_server
from tools.devstack.aws import emulator_kind, endpoint_from_env, region_from_env, stand_in_enabled, wait_until
from tools.devstack.moto_server import is_healthy
from tools.devstack.processes import ROOT, devstack_command, pid_alive, read_pid
from tools.devstack.stripe_local import is_healthy as stripe_is_healthy

# Terraform output lines worth showing as progress (the plan itself is long; it is shown only on failure).
TF_PROGRESS = (
    ">> ",
    "Plan:",
    "Creation complete",
    "Modifications complete",
    "Destruction complete",
    "Still creating",
    "Apply complete",
    "No changes",
    "Error",
    "Warning",
)


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


class DemoStack:
    """Starts (or reuses) what the demo's orders need; each step prints one line, or the failing tool's output."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.endpoint = endpoint_from_env()
        self.region = region_from_env()
        self.run_dir: Path = args.run_dir
        self._rd = ("--run-dir", str(self.run_dir))

    # ---- setup --------------------------------------------------------------------------------------------

    def emulator(self) -> None:
        if emulator_kind() == "ministack":
            self._ministack()
            return
        if not stand_in_enabled():
            step(f"LocalStack mode: using the LocalStack at {self.endpoint}")
            wait_until(lambda: self._localstack_up(), 10, f"LocalStack at {self.endpoint} (docs/localstack.md)")
            return
        step(f"Emulator at {self.endpoint}")
        if is_healthy(self.endpoint):
            print(f"    reusing the moto server already answering at {self.endpoint}")
            pid = read_pid(self.run_dir, moto_server.PID_FILE)
            if pid is None or not pid_alive(pid):
                print(
                    "    note: it was not started by this tool; unless it runs with the patch described in\n"
                    "    docs/local-dev.md (One patch to moto), retried messages may reach the DLQ early"
                )
            return
        url = urlparse(self.endpoint)
        host, port = url.hostname or "127.0.0.1", str(url.port or 4566)
        self._run(
            devstack_command("emulator", "start", "--emulator", "moto", "--host", host, "--port", port, *self._rd)
        )

    def _ministack(self) -> None:
        step(f"MiniStack at {self.endpoint} (runs the functions itself)")
        if ministack.is_healthy(self.endpoint):
            print(f"    reusing the MiniStack already answering at {self.endpoint}")
            return
        url = urlparse(self.endpoint)
        host, port = url.hostname or "127.0.0.1", str(url.port or 4566)
        self._run(
            devstack_command("emulator", "start", "--emulator", "ministack", "--host", host, "--port", port, *self._rd)
        )

    def local_stripe(self) -> None:
        """The Stripe-compatible server the functions of envs/local charge through (``stripe_local``)."""
        api_base = f"http://127.0.0.1:{self.args.stripe_port}"
        step(f"Local Stripe (localstripe behind its fault proxy) at {api_base}")
        if stripe_is_healthy(api_base):
            print(f"    reusing the local Stripe already answering at {api_base}")
            return
        self._run(devstack_command("stripe", "start", "--port", str(self.args.stripe_port), *self._rd))

    def _localstack_up(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.endpoint.rstrip("/") + "/_localstack/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def apply(self) -> None:
        if self.args.skip_apply:
            step("Terraform apply skipped (--skip-apply)")
            return
        if not (ROOT / "build" / "lambda.zip").exists():
            raise SystemExit("build/lambda.zip is missing: run make package (make demo does it for you)")
        step("Applying terraform/envs/local (./tools/tf.sh apply-local; about 2 minutes on a fresh emulator)")
        started = time.monotonic()
        process = subprocess.Popen(
            [str(ROOT / "tools" / "tf.sh"), "apply-local"],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        lines: list[str] = []
        for raw in process.stdout:
            line = raw.rstrip()
            lines.append(line)
            if any(marker in line for marker in TF_PROGRESS):
                print(f"    tf | {line}", flush=True)
        if process.wait() != 0:
            print("    ... last lines of the terraform output:")
            for line in lines[-60:]:
                print(f"    tf | {line}")
            raise SystemExit(f"terraform apply failed (exit {process.returncode})")
        print(f"    applied in {time.monotonic() - started:.0f} s")

    def lambda_service(self) -> None:
        if not stand_in_enabled():
            step(f"Lambda runs inside {emulator_kind()}: no local Lambda service")
            return
        step("Local Lambda service (plays AWS Lambda for the emulator)")
        self._run(devstack_command("dev", "start", *self._rd))

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, cwd=str(ROOT), text=True, capture_output=True)
        for line in (result.stdout + result.stderr).splitlines():
            print(f"    {line}")
        if result.returncode:
            raise SystemExit(f"{' '.join(argv[3:5])} failed (exit {result.returncode})")
