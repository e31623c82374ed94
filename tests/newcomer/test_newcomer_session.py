"""A newcomer's first hour, through the Make targets, on a local stack of its own (issue #26).

The session runs in a fresh copy of the working tree (what ``git clone`` would give: tracked and untracked files,
nothing ignored, so no ``.run/`` or ``build/``) on free ports with its own ``RUN_DIR``, so it runs beside the other
suites (``make test`` starts it in the background, as it does the MiniStack behaviour suite). Only ``.venv`` is
shared (a link to this checkout's): creating it is ``make venv``'s job, a status line and pip's log, and the copy
keeps file times so make sees it up to date.

In order: ``make dev`` (output under 150 lines), ``make dev`` again (Terraform plans no change), ``make seed``,
``make events``, ``make invoke`` of a fresh order then of its ``order.cancelled`` (refunded, nothing dead-letters,
``make doctor`` passes), ``make clean`` with the stack up then ``make dev`` (no port conflict), and
``make check | head -1`` (exit 0, no traceback). Slow (three Terraform runs into moto, three packagings): 8.5-10
minutes measured on the shared 2-core machine, mostly waiting on Terraform's SQS creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.emulator import free_port
from tools.devstack.processes import port_in_use

ROOT = Path(__file__).resolve().parents[2]
# Variables a parent make exports (make test runs this suite) that would point the copy at another stack.
INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "AWS_ENDPOINT_URL", "TF_VAR_stripe_api_base", "TF_LOCAL_STATE")


def fresh_copy(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    (dest / ".venv").symlink_to(ROOT / ".venv")


class Session:
    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.run_dir = tree / ".run-newcomer"
        self.emulator_port, self.stripe_port = free_port(), free_port()
        self.vars = [
            "EMULATOR=moto",
            f"EMULATOR_PORT={self.emulator_port}",
            f"STRIPE_PORT={self.stripe_port}",
            f"RUN_DIR={self.run_dir}",
        ]
        self.env = {k: v for k, v in os.environ.items() if k not in INHERITED}

    def make(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return self.shell(f"make {' '.join(args)} {' '.join(self.vars)}", timeout=timeout)

    def shell(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"],
            cwd=self.tree,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def ok(result: subprocess.CompletedProcess[str], what: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{what} exited {result.returncode}:\n{output[-4000:]}"
    assert "Traceback" not in output, f"{what} printed a traceback:\n{output[-4000:]}"
    return output


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    tree = tmp_path_factory.mktemp("clone")
    fresh_copy(tree)
    s = Session(tree)
    yield s
    s.make("emulator-stop", timeout=120)


def test_a_newcomers_first_hour(session: Session) -> None:
    first = ok(session.make("dev"), "make dev on a fresh clone")
    lines = first.splitlines()
    assert len(lines) < 150, f"make dev printed {len(lines)} lines on a fresh clone:\n{first}"
    assert "Apply complete!" in first and "all checks passed" in first
    assert (session.run_dir / "terraform-apply.log").stat().st_size > 10_000, "the full Terraform log is kept"

    again = ok(session.make("dev"), "make dev again")
    assert "No changes." in again, f"the second make dev planned changes:\n{again}"
    assert "Resources: 0 added, 0 changed, 0 destroyed" in again

    ok(session.make("seed"), "make seed")
    events = ok(session.make("events"), "make events")
    assert "payment.succeeded" in events and "refund.succeeded" in events, events

    order = f"ord-newcomer-{uuid.uuid4().hex[:8]}"
    paid = ok(session.make("invoke", "EVENT=events/order-placed.json", f"ORDER={order}"), "make invoke (payment)")
    assert "gateway: the local Stripe" in paid, paid
    ok(session.make("invoke", "EVENT=events/order-cancelled.json", f"ORDER={order}"), "make invoke (cancellation)")
    records = ok(session.make("check"), "make check")
    mine = [line for line in records.splitlines() if line.startswith(order)]
    assert len(mine) == 2 and all(" SUCCEEDED " in line for line in mine), records
    assert any(" re_" in line for line in mine), f"the refund did not go through the local Stripe:\n{records}"
    doctor = ok(session.make("doctor"), "make doctor after the invocations")
    assert "3 DLQs empty" in doctor, doctor

    cleaned = ok(session.make("clean"), "make clean with the stack up")
    assert not session.run_dir.exists()
    for port in (session.emulator_port, session.stripe_port):
        assert not port_in_use("127.0.0.1", port), f"port {port} still served after make clean:\n{cleaned}"
    assert "emulator (pid" in cleaned and "stopped" in cleaned, cleaned
    redone = ok(session.make("dev"), "make dev after make clean")
    assert "already in use" not in redone and "all checks passed" in redone, redone

    head = session.shell(f"make check {' '.join(session.vars)} | head -1")
    output = ok(head, "make check | head -1")
    assert output.startswith("Payments ("), output
