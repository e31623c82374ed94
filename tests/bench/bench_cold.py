"""Cold start as Lambda runs it: Python 3.12, the built zip unpacked, from process start to the first response.

Each pair is two fresh processes of the Lambda runtime's Python (a virtualenv holding only boto3, as the managed
runtime does), interleaved so drift on the machine hits both sides alike:

- handler: the unpacked ``build/lambda.zip`` first on ``sys.path``; import the payment handler, build its clients,
  then answer one real payment event (validator compiled, service built, four AWS calls against the emulator);
- baseline: import boto3, build the same two clients with the same configuration, then make the same four raw
  calls (tests/bench/raw_calls.py).

Both report ``time.monotonic()`` (CLOCK_MONOTONIC, shared by every process of the machine) at the first response;
the parent takes it just before starting the process, so the figure includes interpreter start-up. The instant
after imports and clients is kept too: that is the import-only figure, a detail.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
MARK = "BENCH-COLD "

_HANDLER = """
import time
import sys
sys.path[:0] = [{pkg!r}, {bench!r}]
from novamart_payments.handlers.payment import handler
from novamart_payments import clients
clients.dynamodb(); clients.events()
ready = time.monotonic()
import json
from bench_events import Ctx

result = handler(json.loads(sys.argv[1]), Ctx())
first = time.monotonic()
assert result["batchItemFailures"] == [], result
print({mark!r} + json.dumps({{"ready": ready, "first": first}}), flush=True)
"""

_BASELINE = """
import time
import sys
sys.path.insert(0, {bench!r})
import boto3
from botocore.config import Config
session = boto3.session.Session(region_name="us-east-2")
cfg = Config(connect_timeout=1.0, read_timeout=1.0, retries={{"mode": "standard", "total_max_attempts": 3}})
ddb = session.client("dynamodb", config=cfg)
events = session.client("events", config=cfg)
ready = time.monotonic()
import json
import raw_calls
raw_calls.new_payment(ddb, events, {table!r}, sys.argv[1])
first = time.monotonic()
print({mark!r} + json.dumps({{"ready": ready, "first": first}}), flush=True)
"""


def _run(python: Path, code: str, arg: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first response, seconds to imports + clients), both from just before the process starts."""
    start = time.monotonic()
    out = subprocess.run([str(python), "-c", code, arg], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"cold-start process failed:\n{out.stderr[-2000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith(MARK))
    marks = json.loads(line[len(MARK) :])
    return marks["first"] - start, marks["ready"] - start


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(samples) * 1e3, "min_ms": min(samples) * 1e3, "max_ms": max(samples) * 1e3}


def measure(python: Path, pkg: Path, env: dict[str, str], table: str, batch: Any, pairs: int) -> dict[str, Any]:
    """Interleaved pairs; ``batch(order_id)`` makes the SQS batch of one new payment event."""
    handler_code = _HANDLER.format(pkg=str(pkg), bench=str(BENCH_DIR), mark=MARK)
    baseline_code = _BASELINE.format(bench=str(BENCH_DIR), table=table, mark=MARK)
    first: dict[str, list[float]] = {"handler": [], "baseline": []}
    ready: dict[str, list[float]] = {"handler": [], "baseline": []}
    # One unmeasured pair first: page cache and the emulator's first-request paths warm for both sides.
    _run(python, handler_code, json.dumps(batch(f"cold-warmup-{uuid.uuid4().hex[:8]}")), env)
    _run(python, baseline_code, f"cold-warmup-{uuid.uuid4().hex[:8]}", env)
    for _ in range(pairs):
        f, r = _run(python, handler_code, json.dumps(batch(f"cold-{uuid.uuid4().hex[:12]}")), env)
        first["handler"].append(f)
        ready["handler"].append(r)
        f, r = _run(python, baseline_code, f"coldbase-{uuid.uuid4().hex[:12]}", env)
        first["baseline"].append(f)
        ready["baseline"].append(r)
    ratios = sorted(h / b for h, b in zip(first["handler"], first["baseline"], strict=True))
    return {
        "pairs": pairs,
        "handler": _stats(first["handler"]),
        "baseline": _stats(first["baseline"]),
        "ratio": statistics.median(first["handler"]) / statistics.median(first["baseline"]),
        "pair_ratio_min": ratios[0],
        "pair_ratio_max": ratios[-1],
        "import_handler": _stats(ready["handler"]),
        "import_baseline": _stats(ready["baseline"]),
        "import_ratio": statistics.median(ready["handler"]) / statistics.median(ready["baseline"]),
        "import_self_ms_by_package": _import_breakdown(python, handler_code, json.dumps(batch("cold-importtime")), env),
    }


def _import_breakdown(python: Path, code: str, arg: str, env: dict[str, str]) -> list[tuple[str, float]]:
    """Import self-time per top-level package of one handler process (``-X importtime``), largest first."""
    out = subprocess.run([str(python), "-X", "importtime", "-c", code, arg], env=env, capture_output=True, text=True)
    per_package: dict[str, float] = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            top = m.group(2).split(".")[0]
            per_package[top] = per_package.get(top, 0.0) + int(m.group(1)) / 1000
    return sorted(per_package.items(), key=lambda kv: -kv[1])[:10]


_MARGINAL = """
import time
import sys
sys.path[:0] = [{pkg!r}]
import boto3
from botocore.config import Config
session = boto3.session.Session(region_name="us-east-2")
cfg = Config(connect_timeout=1.0, read_timeout=1.0, retries={{"mode": "standard", "total_max_attempts": 3}})
session.client("dynamodb", config=cfg), session.client("events", config=cfg)
start = time.perf_counter()
for name in sys.argv[1].split(","):
    if name:
        __import__(name)
print({mark!r} + str(time.perf_counter() - start), flush=True)
"""

#: What the payment function loads beyond boto3 and its clients, in the order it loads it, each step adding one
#: library to the ones before. The last step is the production gateway's SDK, which GATEWAY_MODE=stripe loads on
#: its first event (the cold-start row runs the simulated gateway, as the bench's baseline has no gateway calls).
IMPORT_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Powertools Logger, Metrics, Tracer",
        ("aws_lambda_powertools.logging", "aws_lambda_powertools.metrics", "aws_lambda_powertools.tracing"),
    ),
    ("X-Ray SDK (Tracer loads it)", ("aws_xray_sdk.core", "aws_xray_sdk.ext.botocore.patch")),
    ("Powertools batch utility", ("aws_lambda_powertools.utilities.batch",)),
    ("jsonschema-rs, rfc3339-validator", ("jsonschema_rs", "rfc3339_validator")),
    ("novamart_payments (payment handler)", ("novamart_payments.handlers.payment",)),
    ("stripe SDK + adapter (production gateway)", ("novamart_payments.gateway.stripe_gateway", "stripe")),
)


def marginal_imports(python: Path, pkg: Path, env: dict[str, str], runs: int = 7) -> list[tuple[str, float]]:
    """Median milliseconds each step of IMPORT_STEPS adds, over fresh Python 3.12 processes that have imported
    boto3 and built the two clients first: what each library costs a cold start on top of the baseline."""
    code = _MARGINAL.format(pkg=str(pkg), mark=MARK)
    loaded: list[str] = []
    previous = 0.0
    out: list[tuple[str, float]] = []
    for label, modules in ((None, ()), *IMPORT_STEPS):
        loaded.extend(modules)
        samples = []
        for _ in range(runs):
            proc = subprocess.run([str(python), "-c", code, ",".join(loaded)], env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"import step {label} failed:\n{proc.stderr[-2000:]}")
            line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(MARK))
            samples.append(float(line[len(MARK) :]) * 1e3)
        median = statistics.median(samples)
        if label is not None:
            out.append((label, median - previous))
        previous = median
    return out
