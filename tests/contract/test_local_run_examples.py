"""The examples captured from a local run (tools/capture_examples.py) are still what the service emits."""

from __future__ import annotations

import subprocess
import sys

from contract_support import REPO


def test_local_run_examples_match_a_fresh_run() -> None:
    # A subprocess: the capture points the handlers' environment at its own moto server.
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "capture_examples.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "local-run examples match" in result.stdout
