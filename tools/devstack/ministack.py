"""MiniStack, the emulator that really runs the functions (``EMULATOR=ministack``): its venv and its process.

    python -m tools.devstack emulator venv   --emulator ministack [--venv .venv-ministack]
    python -m tools.devstack emulator start  --emulator ministack [--host 127.0.0.1] [--port 4566] [--run-dir .run]
    python -m tools.devstack emulator stop   --emulator ministack [--run-dir .run]
    python -m tools.devstack emulator status --emulator ministack [--host ...] [--port ...] [--run-dir .run]
    python -m tools.devstack emulator reset  --emulator ministack [--host ...] [--port ...]

MiniStack (PyPI ``ministack``) is a LocalStack-compatible emulator that runs Python Lambda functions as local
worker processes with its own interpreter, without Docker. ``build/lambda.zip`` holds wheels built for the
Lambda runtime (Python 3.12), so MiniStack gets a Python 3.12 virtualenv of its own (found as
``tools/package_smoke.py`` finds 3.12), with ``boto3`` pinned to the botocore MiniStack pins. ``start`` serves it
on loopback only, with the listeners this project does not need (IoT mTLS, SFTP) off, detached (pid and log in
the run dir), and waits until ``/_ministack/health`` answers. ``reset`` clears every service's state.

Against MiniStack nothing plays Lambda in this repository (no ``python -m tools.devstack dev``); redelivery waits
for the queue's real visibility timeout, which ``terraform/envs/local/fast-redelivery.tfvars`` keeps short.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tools.build_lambda import find_python
from tools.devstack.leftovers import port_holder_hint
from tools.devstack.processes import (
    ROOT,
    already_running,
    pid_alive,
    port_in_use,
    read_pid,
    report_start,
    stop_recorded,
    wait_until,
)

# boto3 must match the botocore that ministack 1.5.33 pins, or pip resolves a conflict.
REQUIREMENTS = ("ministack==1.5.33", "boto3==1.43.106")
DEFAULT_VENV = ROOT / ".venv-ministack"
PID_FILE = "ministack.pid"
LOG_FILE = "ministack.log"
STAMP = ".stamp"


def venv_python(venv: Path = DEFAULT_VENV) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path = DEFAULT_VENV) -> Path:
    """Create the Python 3.12 venv with MiniStack unless its stamp says it is there; return its python."""
    stamp = venv / STAMP
    if stamp.is_file() and stamp.read_text().split() == list(REQUIREMENTS):
        stamp.touch()  # up to date for make, too
        return venv_python(venv)
    print(f">> creating {venv} (Python 3.12) with {' '.join(REQUIREMENTS)}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([*find_python(), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv_python(venv)), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    stamp.write_text("\n".join(REQUIREMENTS) + "\n")
    return venv_python(venv)


def endpoint_of(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def is_healthy(endpoint: str, timeout: float = 1.0) -> bool:
    """True when MiniStack answers its health route on ``endpoint``."""
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + "/_ministack/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def reset(endpoint: str) -> None:
    """Clear every service's state (``POST /_ministack/reset``): a second apply into used state would fail."""
    request = urllib.request.Request(endpoint.rstrip("/") + "/_ministack/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


def server_environment(host: str, port: int) -> dict[str, str]:
    """MiniStack's settings; the functions it runs inherit this environment and add their own variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PYTHONPATH")}
    env.update(
        GATEWAY_PORT=str(port),
        BIND_HOST=host,
        IOT_MTLS_ENABLED="0",
        SFTP_ENABLED="0",
        LAMBDA_EXECUTOR="local",
        # The functions' AWS calls go back to this emulator, whatever the caller's shell exported.
        AWS_ENDPOINT_URL=endpoint_of(host, port),
        AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )
    return env


def start_process(host: str, port: int, log_path: Path, venv: Path = DEFAULT_VENV) -> subprocess.Popen[bytes]:
    """Start MiniStack detached (own session) with output to ``log_path``; the caller waits for health."""
    python = ensure_venv(venv)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(python), "-m", "ministack"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_environment(host, port),
            cwd=str(log_path.parent),
            start_new_session=True,
        )


def start(host: str, port: int, run_dir: Path, timeout: float, venv: Path) -> int:
    endpoint = endpoint_of(host, port)
    if already_running(run_dir, PID_FILE, "MiniStack", endpoint, is_healthy):
        return 0
    if port_in_use(host, port):
        hint = port_holder_hint(port).replace("make dev ", "make dev EMULATOR=ministack ")
        print(f"error: {host}:{port} is already in use. {hint}", file=sys.stderr)
        return 1
    log_path = run_dir / LOG_FILE
    process = start_process(host, port, log_path, venv)
    (run_dir / PID_FILE).write_text(f"{process.pid}\n")
    state = wait_until(process, lambda: is_healthy(endpoint), timeout, run_dir / PID_FILE)
    return report_start("MiniStack", process, state, log_path, timeout, where=lambda: f"at {endpoint}")


def status(host: str, port: int, run_dir: Path) -> int:
    endpoint = endpoint_of(host, port)
    pid = read_pid(run_dir, PID_FILE)
    if is_healthy(endpoint):
        print(f"MiniStack running at {endpoint}" + (f" (pid {pid})" if pid and pid_alive(pid) else ""))
        return 0
    print(f"MiniStack not running at {endpoint}")
    return 1


def stop(run_dir: Path) -> int:
    return stop_recorded(run_dir, PID_FILE, "MiniStack")
