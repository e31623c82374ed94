"""The CPU and memory bench still runs the handlers as they are.

It drives the handler with its AWS clients and gateway replaced by stubs; when the gateway port changed (one call
became two) the bench broke without a sound, and docs/performance.md kept a figure nobody could reproduce. This
runs it from the sources with a few events, as ``make bench`` runs it from the zip with thousands.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
SMALL = ("--cpu-events", "50", "--memory-events", "50")


def test_the_cpu_and_memory_bench_runs_the_handler_it_measures() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_cpu.py"), "--pkg", str(ROOT / "lambda_src"), *SMALL],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["cpu_events"] == 50
    # Validation and the gateway are timed inside the handler's CPU, so both are seen and both are part of it.
    assert 0 < result["validation_us_per_event"] < result["cpu_us_per_event"]
    assert 0 < result["gateway_us_per_event"] < result["cpu_us_per_event"]
