"""The processes of a load run: a fresh emulator and a fresh local Stripe on loopback, and stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tools.devstack.processes import port_in_use


def start(emulator: str, host: str, port: int, stripe_port: int, run_dir: Path) -> list[subprocess.Popen[bytes]]:
    """The emulator (``ministack`` or ``moto``) and the local Stripe, fresh, on loopback, once they answer."""
    from tools.devstack import ministack, moto_server, stripe_local

    endpoint = f"http://{host}:{port}"
    for taken in (port, stripe_port):
        if port_in_use(host, taken):
            raise RuntimeError(f"{host}:{taken} is in use: make load starts its own emulator and Stripe")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        if emulator == "ministack":
            processes.append(ministack.start_process(host, port, run_dir / "ministack-load.log"))
            healthy = ministack.is_healthy
        else:
            with (run_dir / "moto-load.log").open("ab") as log:
                command = moto_server.serve_command(host, str(port))
                processes.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                )
            healthy = moto_server.is_healthy
        deadline = time.monotonic() + 90
        while not healthy(endpoint):
            if processes[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{emulator} did not start on {endpoint} (log in {run_dir})")
            time.sleep(0.2)
        processes.append(stripe_local.start_process(host, stripe_port, run_dir / "localstripe-load.log"))
    except BaseException:  # nothing started stays running when the next one fails (or Ctrl-C)
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Each process's whole group (MiniStack's function workers too): SIGTERM, then SIGKILL after 15 s."""
    for process in processes:
        if process.poll() is not None:
            continue
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            process.wait(timeout=5)
