"""Fast checks of the newcomer-facing tooling (issue #26): closed pipes, stopped stacks, stray processes, help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.emulator import free_port
from tools.devstack.leftovers import classify

ROOT = Path(__file__).resolve().parents[2]


def devstack(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.devstack", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_closed_pipe_ends_quietly() -> None:
    """``make check | head -1``: the reader is gone before the command writes; no BrokenPipeError traceback."""
    read, write = os.pipe()
    os.close(read)
    done = subprocess.run(
        [sys.executable, "-m", "tools.devstack", "emulator", "status", "--port", str(free_port())],
        cwd=ROOT,
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0


@pytest.mark.parametrize("command", [["check"], ["reconcile"], ["events"], ["seed"], ["pay"]])
def test_a_stopped_stack_gets_a_hint_not_a_traceback(command: list[str]) -> None:
    done = devstack(*command, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}", AWS_MAX_ATTEMPTS="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "make dev" in done.stderr, done.stderr


def test_the_stacks_processes_are_recognised_by_port_and_command_line() -> None:
    py = "/x/.venv/bin/python"
    assert classify([py, "-m", "tools.devstack", "emulator", "serve", "--port", "4630"], {}, 4630, 8470) == "emulator"
    assert classify([py, "-m", "tools.devstack", "stripe", "serve", "--port", "8470"], {}, 4630, 8470) == "local Stripe"
    service = [py, "-m", "tools.devstack", "dev", "run", "--endpoint", "http://127.0.0.1:4630"]
    assert classify(service, {}, 4630, 8470) == "local Lambda service"
    assert classify([py, "-m", "ministack"], {"GATEWAY_PORT": "4630"}, 4630, 8470) == "MiniStack"
    # Another stack's ports, or another program: never ours.
    assert classify([py, "-m", "tools.devstack", "emulator", "serve", "--port", "4566"], {}, 4630, 8470) is None
    assert classify([py, "-m", "ministack"], {"GATEWAY_PORT": "4566"}, 4630, 8470) is None
    assert classify(["nc", "-l", "4630"], {}, 4630, 8470) is None


def test_make_help_is_grouped_whole_and_plain_in_a_pipe() -> None:
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    out = done.stdout
    assert done.returncode == 0
    assert "\033" not in out, "colour escapes in a pipe"
    assert "$(" not in out, "a make variable printed literally"
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings[:4] == [
        "Start here (the local stack)",
        "Test (make test runs what CI runs)",
        "Deploy",
        "Internals",
    ], headings
    start = out.split("Test (make")[0]
    for target in ("demo", "dev", "events", "pay", "stripe-outage", "clean"):
        assert f"\n  {target} " in start, f"{target} is not under 'Start here'"
    makefile = (ROOT / "Makefile").read_text()
    for line in makefile.splitlines():
        if "## " in line and line.split(":")[0].replace("-", "").isalnum() and not line.startswith("\t"):
            target, description = line.split(":")[0], line.split("## ", 1)[1]
            assert description in out, f"the description of {target} is not shown whole"
            assert description.rstrip()[-1] not in "',", f"the description of {target} is cut: {description!r}"
