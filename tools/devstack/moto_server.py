"""The embedded AWS emulator (moto in server mode) for local development: start, stop, status, serve.

    python -m tools.devstack emulator start  [--host 127.0.0.1] [--port 4566] [--run-dir .run] [--timeout 30]
    python -m tools.devstack emulator stop   [--run-dir .run]
    python -m tools.devstack emulator status [--host ...] [--port ...] [--run-dir .run]

``start`` launches a detached process (its own session, so it outlives ``make``) that serves moto on the given
loopback address, writes its pid to ``<run-dir>/emulator.pid`` and its log to ``<run-dir>/emulator.log``, then
polls the health endpoint until the server answers or the deadline passes. If the port is already taken by
something that is not our emulator, it says so and exits 1 instead of starting a second server.

The served moto has two patches (``moto_patches``): it no longer tries to run Lambda functions behind SQS
event-source mappings itself (that needs Docker, and every failed attempt counts as a receive of the message,
which would dead-letter messages early), and DynamoDB transactions are isolated. The local Lambda service
(``python -m tools.devstack dev``) plays the Lambda service instead.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from tools.devstack.leftovers import port_holder_hint
from tools.devstack.processes import (
    already_running,
    devstack_command,
    pid_alive,
    port_in_use,
    read_pid,
    report_start,
    spawn_detached,
    stop_recorded,
    wait_until,
)

PID_FILE = "emulator.pid"
LOG_FILE = "emulator.log"


def health_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/moto-api/"


def serve_command(host: str, port: str) -> list[str]:
    """``python -m tools.devstack emulator serve`` for moto on ``host:port`` (run it from the repository root)."""
    return devstack_command("emulator", "serve", "--emulator", "moto", "--host", host, "--port", port)


def is_healthy(endpoint: str, timeout: float = 1.0) -> bool:
    """True when a moto server answers on ``endpoint`` (its dashboard route returns 200)."""
    try:
        with urllib.request.urlopen(health_url(endpoint), timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start(host: str, port: int, run_dir: Path, timeout: float) -> int:
    endpoint = f"http://{host}:{port}"
    if already_running(run_dir, PID_FILE, "emulator", endpoint, is_healthy):
        return 0
    if port_in_use(host, port):
        print(f"error: {host}:{port} is already in use. {port_holder_hint(port)}", file=sys.stderr)
        return 1
    log_path = run_dir / LOG_FILE
    serve_args = serve_command(host, str(port))[1:]  # spawn_detached adds the interpreter
    process = spawn_detached(serve_args, run_dir, PID_FILE, log_path)
    state = wait_until(process, lambda: is_healthy(endpoint), timeout, run_dir / PID_FILE)
    return report_start(
        "emulator",
        process,
        state,
        log_path,
        timeout,
        where=lambda: f"at {endpoint}",
        not_ready="did not become healthy",
    )


def stop(run_dir: Path) -> int:
    return stop_recorded(run_dir, PID_FILE, "emulator")


def status(host: str, port: int, run_dir: Path) -> int:
    endpoint = f"http://{host}:{port}"
    pid = read_pid(run_dir, PID_FILE)
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
    from moto import server

    from tools.devstack.moto_patches import patch_moto

    patch_moto()
    server.main(["--host", host, "--port", str(port)])
