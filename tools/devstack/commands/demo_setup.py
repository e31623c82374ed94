"""The setup half of ``make demo``: emulator, local Stripe, Terraform apply and the local Lambda service."""

from __future__ import annotations

import argparse
import queue
import re
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from tools.devstack import ministack, moto_server
from tools.devstack.aws import emulator_kind, endpoint_from_env, region_from_env, stand_in_enabled, wait_until
from tools.devstack.moto_server import is_healthy
from tools.devstack.processes import ROOT, devstack_command, pid_alive, read_pid
from tools.devstack.stripe_local import is_healthy as stripe_is_healthy

# Terraform output lines shown as they come; the plan and the per-resource lines go to the log file only.
TF_SHOWN = ("Plan:", "Apply complete", "No changes", "Error", "Warning:")
TF_DONE = ("Creation complete", "Modifications complete", "Destruction complete")
APPLY_LOG = "terraform-apply.log"


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
        log_path = self.run_dir / APPLY_LOG
        step(
            "Applying terraform/envs/local (./tools/tf.sh apply-local; about 2 minutes on a fresh emulator)\n"
            f"    full Terraform output: {log_path}"
        )
        code, _ = filtered_apply(log_path)
        if code != 0:
            raise SystemExit(f"terraform apply failed (exit {code}); full output {log_path}")

    def lambda_service(self) -> None:
        if not stand_in_enabled():
            step(f"Lambda runs inside {emulator_kind()}: no local Lambda service")
            return
        step("Local Lambda service (plays AWS Lambda for the emulator)")
        self._run(devstack_command("dev", "start", *self._rd))

    def _run(self, argv: list[str]) -> None:
        self.run_quietly(argv)

    def run_quietly(self, argv: list[str], *, check: bool = True) -> int:
        """Run a tools.devstack command, its output indented under the step; with ``check``, stop on failure."""
        result = subprocess.run(argv, cwd=str(ROOT), text=True, capture_output=True)
        for line in (result.stdout + result.stderr).splitlines():
            print(f"    {line}", flush=True)
        if result.returncode and check:
            raise SystemExit(f"{' '.join(argv[3:5])} failed (exit {result.returncode})")
        return result.returncode


def filtered_apply(log_path: Path, every: float = 10.0) -> tuple[int, float]:
    """``tools/tf.sh apply-local`` with its whole output in ``log_path`` and a short progress on the terminal:
    the plan summary, ``[done/planned] elapsed`` every ``every`` seconds, the apply summary and the elapsed time
    (the last lines of the log on failure). Returns the exit code and the seconds it took."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    lines: queue.Queue[str | None] = queue.Queue()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(ROOT / "tools" / "tf.sh"), "apply-local"],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

        def pump() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                log.write(raw)
                log.flush()
                lines.put(raw.rstrip())
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        planned, done, last_report, finished = 0, 0, started, False
        while not finished:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                line = ""
            if line is None:
                finished = True
                continue
            if line.startswith("Plan:"):
                planned = sum(int(n) for n in re.findall(r"(\d+) to (?:add|change|destroy)", line))
            if any(marker in line for marker in TF_DONE):
                done += 1
            if any(line.startswith(marker) for marker in TF_SHOWN):
                print(f"    tf | {line}", flush=True)
            now = time.monotonic()
            if planned and now - last_report >= every and not finished:
                print(f"    [{done:>3}/{planned}] {now - started:4.0f} s", flush=True)
                last_report = now
        code = process.wait()
    elapsed = time.monotonic() - started
    if code != 0:
        print("    ... last lines of the terraform output:")
        for line in log_path.read_text(errors="replace").splitlines()[-40:]:
            print(f"    tf | {line}")
    else:
        print(f"    applied in {elapsed:.0f} s ({done} resources created, changed or destroyed)", flush=True)
    return code, elapsed
