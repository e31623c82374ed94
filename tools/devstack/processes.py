"""Emulator processes: detached servers with a pid file in the run dir, started and stopped with a deadline.

Shared by the moto server, MiniStack, the local Stripe and the developer Lambda service. A detached process runs
in its own session, so it outlives ``make``; ``python -m tools.devstack ...`` children run from the repository
root so that the package imports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def devstack_command(*args: str) -> list[str]:
    """The arguments that run ``python -m tools.devstack <args>`` with this interpreter (run it from ``ROOT``)."""
    return [sys.executable, "-m", "tools.devstack", *args]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_pid(run_dir: Path, name: str) -> int | None:
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
            cwd=str(ROOT),
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


def report_start(
    label: str,
    process: subprocess.Popen[bytes],
    state: str,
    log_path: Path,
    timeout: float,
    *,
    where: Callable[[], str],
    not_ready: str = "did not answer",
) -> int:
    """What a ``start`` command says once ``wait_until`` answered ``state``, and its exit status. ``where`` (read
    only once it is ready) says where it serves; ``not_ready`` what did not happen within the timeout."""
    if state == "ready":
        print(f"{label} running (pid {process.pid}) {where()}; log {log_path}")
        return 0
    if state == "exited":
        print(f"error: {label} exited with code {process.returncode}; see {log_path}", file=sys.stderr)
    else:
        print(f"error: {label} {not_ready} within {timeout:.0f}s; see {log_path}", file=sys.stderr)
    return 1


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
