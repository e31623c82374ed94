"""MiniStack for test sessions (``EMULATOR=ministack``): a fresh emulator on a free loopback port per run.

``ministack_endpoint`` (session) starts ``tools.devstack.ministack``'s process (its Python 3.12 venv is created on
first use; ``make bdd EMULATOR=ministack`` builds it first), waits for its health route and stops it, with its
whole process group (the function workers included), at the end. A new process per run is the clean state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.emulator import free_port
from tools.devstack.ministack import is_healthy, start_process

START_TIMEOUT = 90.0


@pytest.fixture(scope="session")
def ministack_endpoint() -> Iterator[str]:
    log = Path(tempfile.mkdtemp(prefix="ministack-")) / "ministack.log"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = start_process("127.0.0.1", port, log)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not is_healthy(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"MiniStack did not answer at {endpoint}; log {log}", pytrace=False)
            time.sleep(0.2)
        yield endpoint
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a stuck emulator must not outlive the session
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
