"""Running the on-call commands (``tools/ops.py``, what ``make redrive`` / ``make replay`` run) against the stack
under test, the way an operator runs them: a separate process pointed at the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.bdd.world import World

REPO = Path(__file__).resolve().parents[2]


def run_ops(world: World, *args: str) -> str:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": world.endpoint_url,
        "AWS_REGION": world.region,
        "AWS_DEFAULT_REGION": world.region,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    }
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "ops.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    command = " ".join(args)
    assert done.returncode == 0, f"tools/ops.py {command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout
