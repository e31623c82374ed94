#!/usr/bin/env python3
"""Start, stop and inspect the embedded AWS emulator (moto in server mode) for local development.

    tools/emulator.py start  [--host 127.0.0.1] [--port 4566] [--run-dir .run] [--timeout 30]
    tools/emulator.py stop   [--run-dir .run]
    tools/emulator.py status [--host ...] [--port ...] [--run-dir .run]

``start`` launches a detached process (its own session, so it outlives ``make``) that serves moto on the given
loopback address, writes its pid to ``<run-dir>/emulator.pid`` and its log to ``<run-dir>/emulator.log``, then
polls the health endpoint until the server answers or the deadline passes. If the port is already taken by
something that is not our emulator, it says so and exits 1 instead of starting a second server.

The served moto has one patch (see ``localsvc_lib.patch_moto_sqs_esm_invocation``): it no longer tries to run
Lambda functions behind SQS event-source mappings itself (that needs Docker, and every failed attempt counts as
a receive of the message, which would dead-letter messages early). The local Lambda service
(``tools/localsvc.py``) plays the Lambda service instead.

``EMULATOR=localstack`` makes ``start`` and ``stop`` refuse politely: LocalStack is started with Docker (see
docs/localstack.md), not by this script.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PID_FILE = "emulator.pid"
LOG_FILE = "emulator.log"


def health_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/moto-api/"


def is_healthy(endpoint: str, timeout: float = 1.0) -> bool:
    """True when a moto server answers on ``endpoint`` (its dashboard route returns 200)."""
    try:
        with urllib.request.urlopen(health_url(endpoint), timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_pid(run_dir: Path, name: str = PID_FILE) -> int | None:
    try:
        return int((run_dir / name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) still answers signal 0; look at its state where /proc exists.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def stop_pid(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM the process (and its process group, which it leads), SIGKILL after ``timeout``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
    return not pid_alive(pid)


def spawn_detached(args: list[str], run_dir: Path, pid_file: str, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``python <args>`` in its own session (it outlives make), output appended to the log, pid recorded."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(HERE.parent),
        )
    (run_dir / pid_file).write_text(f"{process.pid}\n")
    return process


def wait_until(process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float, pid_path: Path) -> str:
    """Poll with a deadline: ``"ready"``, ``"exited"`` (pid file removed) or ``"timeout"`` (process stopped, pid
    file removed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_path.unlink(missing_ok=True)
            return "exited"
        if ready():
            return "ready"
        time.sleep(0.2)
    stop_pid(process.pid)
    pid_path.unlink(missing_ok=True)
    return "timeout"


def already_running(run_dir: Path, pid_file: str, label: str, endpoint: str, healthy: Callable[[str], bool]) -> bool:
    """True when the process recorded in ``pid_file`` serves ``endpoint``; a recorded process that is alive but
    does not answer is stopped, and the pid file cleared, so that the caller can start a fresh one."""
    run_dir.mkdir(parents=True, exist_ok=True)
    pid = read_pid(run_dir, pid_file)
    if pid is not None and pid_alive(pid):
        if healthy(endpoint):
            print(f"{label} already running (pid {pid}) at {endpoint}")
            return True
        print(f"{label} pid {pid} is alive but {endpoint} does not answer; stopping it first")
        stop_pid(pid)
    (run_dir / pid_file).unlink(missing_ok=True)
    return False


def stop_recorded(run_dir: Path, pid_file: str, label: str) -> int:
    """Stop the process recorded in ``pid_file`` (if any) and clear the file; 1 when it would not stop."""
    pid = read_pid(run_dir, pid_file)
    if pid is None:
        print(f"{label} not running (no pid file)")
        return 0
    if not pid_alive(pid):
        print(f"{label} pid {pid} is not running; removing stale pid file")
    elif stop_pid(pid):
        print(f"{label} (pid {pid}) stopped")
    else:
        print(f"error: {label} pid {pid} did not stop", file=sys.stderr)
        return 1
    (run_dir / pid_file).unlink(missing_ok=True)
    return 0


def start(host: str, port: int, run_dir: Path, timeout: float) -> int:
    endpoint = f"http://{host}:{port}"
    if already_running(run_dir, PID_FILE, "emulator", endpoint, is_healthy):
        return 0
    if port_in_use(host, port):
        what = "a moto server not started by this script" if is_healthy(endpoint) else "another program"
        print(
            f"error: {host}:{port} is already in use by {what}.\n"
            f"  Stop it, or pick another port: make emulator EMULATOR_PORT=4567 "
            f"(and export AWS_ENDPOINT_URL=http://{host}:4567 for the other targets).",
            file=sys.stderr,
        )
        return 1
    log_path = run_dir / LOG_FILE
    process = spawn_detached(
        [str(Path(__file__).resolve()), "serve", "--host", host, "--port", str(port)], run_dir, PID_FILE, log_path
    )
    state = wait_until(process, lambda: is_healthy(endpoint), timeout, run_dir / PID_FILE)
    if state == "ready":
        print(f"emulator running (pid {process.pid}) at {endpoint}; log {log_path}")
        return 0
    if state == "exited":
        print(f"error: the emulator exited with code {process.returncode}; see {log_path}", file=sys.stderr)
    else:
        print(f"error: the emulator did not become healthy within {timeout:.0f}s; see {log_path}", file=sys.stderr)
    return 1


def stop(run_dir: Path) -> int:
    return stop_recorded(run_dir, PID_FILE, "emulator")


def status(host: str, port: int, run_dir: Path) -> int:
    endpoint = f"http://{host}:{port}"
    pid = read_pid(run_dir)
    healthy = is_healthy(endpoint)
    if pid is not None and pid_alive(pid) and healthy:
        print(f"emulator running (pid {pid}) at {endpoint}")
        return 0
    if healthy:
        print(f"a moto server answers at {endpoint} (not started by this script)")
        return 0
    print(f"emulator not running at {endpoint}" + (f" (stale pid {pid})" if pid else ""))
    return 1


def serve(host: str, port: int) -> None:
    """Run moto's server in this process, with the event-source-mapping patch applied."""
    from localsvc_lib import patch_moto_sqs_esm_invocation
    from moto import server
    from moto_patches import patch_moto_dynamodb_isolation

    patch_moto_sqs_esm_invocation()
    patch_moto_dynamodb_isolation()
    server.main(["--host", host, "--port", str(port)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "serve"])
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for health on start")
    args = parser.parse_args(argv)
    if os.environ.get("EMULATOR", "moto") == "localstack" and args.command in ("start", "stop"):
        print("EMULATOR=localstack: start/stop LocalStack with Docker (docs/localstack.md); nothing to do here")
        return 0
    if args.command == "start":
        return start(args.host, args.port, args.run_dir, args.timeout)
    if args.command == "stop":
        return stop(args.run_dir)
    if args.command == "status":
        return status(args.host, args.port, args.run_dir)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
