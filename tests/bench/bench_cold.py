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
import resource
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass
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
stripe = sys.modules.get("stripe")  # the production gateway's SDK: loaded by the first event in stripe mode
loaded = {{
    "stripe_modules": sum(1 for m in sys.modules if m == "stripe" or m.startswith("stripe.")),
    "stripe_from_zip": bool(stripe and stripe.__file__.startswith({pkg!r})),
    "ours": sorted(m for m in sys.modules if m.startswith("novamart_payments")),
}}
print({mark!r} + json.dumps({{"ready": ready, "first": first, **loaded}}), flush=True)
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
{calls}
first = time.monotonic()
print({mark!r} + json.dumps({{"ready": ready, "first": first}}), flush=True)
"""

#: The baseline's first response in each gateway mode: the raw calls of tests/bench/raw_calls.py.
_BASELINE_CALLS = {
    "simulated": "raw_calls.new_payment(ddb, events, {table!r}, sys.argv[1])",
    "stripe": "raw_calls.new_stripe_payment(ddb, events, session.client('secretsmanager', config=cfg), {table!r}, "
    "{budget_table!r}, {secret_id!r}, {api_base!r}, sys.argv[1])",
}


def _run(python: Path, code: str, arg: str, env: dict[str, str]) -> dict[str, Any]:
    """The marks of one fresh process: seconds to the first response (``first``) and to imports + clients
    (``ready``), both from just before the process starts; the CPU seconds the whole process used (``cpu``, which
    other engineers' load on a shared machine disturbs far less than the wall clock); what the handler side
    reports it loaded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run([str(python), "-c", code, arg], env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the emulators are children too, but never waited for
    if out.returncode != 0:
        raise RuntimeError(f"cold-start process failed:\n{out.stderr[-2000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith(MARK))
    marks: dict[str, Any] = json.loads(line[len(MARK) :])
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {**marks, "first": marks["first"] - start, "ready": marks["ready"] - start, "cpu": cpu}


def _named(breakdown: dict[str, list[tuple[str, float]]]) -> dict[str, list[tuple[str, float]]]:
    return {"import_self_ms_by_package": breakdown["packages"], "import_self_ms_of_service": breakdown["service"]}


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(samples) * 1e3, "min_ms": min(samples) * 1e3, "max_ms": max(samples) * 1e3}


@dataclass(frozen=True)
class StripeSide:
    """Where the stripe mode's first event goes besides the emulator: the Stripe-compatible server, the secret
    holding its key, and the request budget's table (production counts every gateway request there)."""

    api_base: str
    secret_id: str
    budget_table: str

    def env(self) -> dict[str, str]:
        """The production function's gateway variables (terraform/modules/service), pointed at the local Stripe."""
        return {
            "GATEWAY_MODE": "stripe",
            "STRIPE_SECRET_ID": self.secret_id,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_OFF_SESSION": "false",
            "GATEWAY_BUDGET_TABLE_NAME": self.budget_table,
        }


def measure(
    python: Path,
    pkg: Path,
    env: dict[str, str],
    table: str,
    batch: Any,
    pairs: int,
    stripe: StripeSide | None = None,
) -> dict[str, Any]:
    """Interleaved pairs; ``batch(order_id)`` makes the SQS batch of one new payment event. With ``stripe`` the
    handler runs the production gateway (the stripe SDK from the zip, its requests answered by ``stripe.api_base``)
    and the baseline makes the same gateway requests raw; without, the simulated gateway and no gateway request."""
    handler_code = _HANDLER.format(pkg=str(pkg), bench=str(BENCH_DIR), mark=MARK)
    calls = _BASELINE_CALLS["stripe" if stripe else "simulated"].format(
        table=table,
        budget_table=stripe.budget_table if stripe else "",
        secret_id=stripe.secret_id if stripe else "",
        api_base=stripe.api_base if stripe else "",
    )
    baseline_code = _BASELINE.format(bench=str(BENCH_DIR), calls=calls, mark=MARK)
    if stripe:
        env = {**env, **stripe.env()}
    runs: dict[str, list[dict[str, Any]]] = {"handler": [], "baseline": []}
    # One unmeasured pair first: page cache and the emulator's first-request paths warm for both sides.
    _run(python, handler_code, json.dumps(batch(f"cold-warmup-{uuid.uuid4().hex[:8]}")), env)
    _run(python, baseline_code, f"cold-warmup-{uuid.uuid4().hex[:8]}", env)
    orders = []
    for _ in range(pairs):
        orders.append(f"cold-{uuid.uuid4().hex[:12]}")
        runs["handler"].append(_run(python, handler_code, json.dumps(batch(orders[-1])), env))
        runs["baseline"].append(_run(python, baseline_code, f"coldbase-{uuid.uuid4().hex[:12]}", env))
    stripe_modules = min(run["stripe_modules"] for run in runs["handler"])
    if stripe and not (stripe_modules and all(run["stripe_from_zip"] for run in runs["handler"])):
        raise RuntimeError(f"the stripe-mode cold start did not load the zip's stripe SDK: {runs['handler']}")
    ours = runs["handler"][0]["ours"]
    first = {side: [run["first"] for run in runs[side]] for side in runs}
    ready = {side: [run["ready"] for run in runs[side]] for side in runs}
    cpu = {side: [run["cpu"] for run in runs[side]] for side in runs}
    ratios = sorted(h / b for h, b in zip(first["handler"], first["baseline"], strict=True))
    return {
        "cpu_handler": _stats(cpu["handler"]),
        "cpu_baseline": _stats(cpu["baseline"]),
        "cpu_ratio": statistics.median(cpu["handler"]) / statistics.median(cpu["baseline"]),
        "mode": "stripe" if stripe else "simulated",
        "pairs": pairs,
        "orders": orders,
        "stripe_modules": stripe_modules,
        "service_modules": len(ours),
        "off_path": off_the_first_payments_path(ours, stripe is not None),
        "handler": _stats(first["handler"]),
        "baseline": _stats(first["baseline"]),
        "ratio": statistics.median(first["handler"]) / statistics.median(first["baseline"]),
        "pair_ratio_min": ratios[0],
        "pair_ratio_max": ratios[-1],
        "import_handler": _stats(ready["handler"]),
        "import_baseline": _stats(ready["baseline"]),
        "import_ratio": statistics.median(ready["handler"]) / statistics.median(ready["baseline"]),
        **_named(_import_breakdown(python, handler_code, json.dumps(batch(f"cold-imp-{uuid.uuid4().hex[:8]}")), env)),
    }


#: Words in the names of the service's modules that a new payment's first event never needs: the other
#: functions' paths (webhooks, Radar warnings, reconciliation), the risk scorer's client (only with
#: RISK_SCORER_URL), and in stripe mode the simulated gateway. The report names any of them a first payment
#: loaded, with its import time, as a candidate for a lazy import.
NOT_ON_THE_PAYMENT_PATH = ("webhook", "radar", "reconcil", "scorer")


def off_the_first_payments_path(modules: list[str], stripe_mode: bool) -> list[str]:
    """The service's modules, among those a first payment event loaded, that its path does not take."""
    words = NOT_ON_THE_PAYMENT_PATH + (("simulated",) if stripe_mode else ())
    return [m for m in modules if any(word in m.rsplit(".", 1)[-1] for word in words)]


def compare(
    python: Path,
    pkgs: dict[str, Path],
    env: dict[str, str],
    batch: Any,
    runs: int,
    stripe: StripeSide | None = None,
) -> dict[str, dict[str, float]]:
    """The handler's first response from each unpacked zip, round-robin over ``runs`` rounds (the order reversed
    every other round) so drift hits every variant alike: how the zip trimming was judged (docs/performance.md)."""
    if stripe:
        env = {**env, **stripe.env()}
    first: dict[str, list[float]] = {label: [] for label in pkgs}
    cpu: dict[str, list[float]] = {label: [] for label in pkgs}
    for round_ in range(runs + 1):  # the first round warms the page cache and is not counted
        for label, pkg in list(pkgs.items())[:: 1 if round_ % 2 else -1]:  # each variant first in turn
            code = _HANDLER.format(pkg=str(pkg), bench=str(BENCH_DIR), mark=MARK)
            order = f"cmp-{uuid.uuid4().hex[:12]}"
            # Lambda's code directory is read-only: a zip without .pyc compiles its imports on every cold start.
            variant_env = {**env, "LAMBDA_TASK_ROOT": str(pkg), "PYTHONDONTWRITEBYTECODE": "1"}
            marks = _run(python, code, json.dumps(batch(order)), variant_env)
            if round_:
                first[label].append(marks["first"])
                cpu[label].append(marks["cpu"])
    return {label: {**_stats(first[label]), "cpu": _stats(cpu[label])} for label in pkgs}


def _import_breakdown(python: Path, code: str, arg: str, env: dict[str, str]) -> dict[str, list[tuple[str, float]]]:
    """Import self-time of one handler process to its first response (``-X importtime``), milliseconds: per
    top-level package (``packages``) and per module of the service (``service``), largest first."""
    out = subprocess.run([str(python), "-X", "importtime", "-c", code, arg], env=env, capture_output=True, text=True)
    per_package: dict[str, float] = {}
    per_module: dict[str, float] = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            name, ms = m.group(2), int(m.group(1)) / 1000
            top = name.split(".")[0]
            per_package[top] = per_package.get(top, 0.0) + ms
            if top == "novamart_payments":
                per_module[name] = per_module.get(name, 0.0) + ms
    return {
        "packages": sorted(per_package.items(), key=lambda kv: -kv[1]),
        "service": sorted(per_module.items(), key=lambda kv: -kv[1]),
    }


_MARGINAL = """
import time
import sys
sys.path[:0] = [{pkg!r}]
import boto3
from botocore.config import Config
session = boto3.session.Session(region_name="us-east-2")
cfg = Config(connect_timeout=1.0, read_timeout=1.0, retries={{"mode": "standard", "total_max_attempts": 3}})
session.client("dynamodb", config=cfg), session.client("events", config=cfg)
start = time.process_time()  # CPU: another process's load on a shared machine hardly moves it
for name in sys.argv[1].split(","):
    if name:
        __import__(name)
print({mark!r} + str(time.process_time() - start), flush=True)
"""

#: What the payment function loads beyond boto3 and its clients, in the order it loads it, each step adding one
#: library to the ones before. The last three are the production gateway's, which GATEWAY_MODE=stripe loads on
#: its first event.
IMPORT_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Powertools Logger, Metrics, Tracer",
        ("aws_lambda_powertools.logging", "aws_lambda_powertools.metrics", "aws_lambda_powertools.tracing"),
    ),
    ("X-Ray SDK (Tracer loads it)", ("aws_xray_sdk.core", "aws_xray_sdk.ext.botocore.patch")),
    ("Powertools batch utility", ("aws_lambda_powertools.utilities.batch",)),
    ("jsonschema-rs, rfc3339-validator", ("jsonschema_rs", "rfc3339_validator")),
    ("novamart_payments (payment handler)", ("novamart_payments.handlers.payment",)),
    ("Powertools Parameters (stripe mode reads the key with it)", ("aws_lambda_powertools.utilities.parameters",)),
    ("requests (the stripe SDK's HTTP client)", ("requests",)),
    ("stripe SDK + adapter (production gateway)", ("novamart_payments.gateway.stripe_gateway", "stripe")),
)


def marginal_imports(python: Path, pkg: Path, env: dict[str, str], runs: int = 7) -> list[tuple[str, float]]:
    """Median milliseconds of CPU each step of IMPORT_STEPS adds, over fresh Python 3.12 processes that have
    imported boto3 and built the two clients first: what each library costs a cold start on top of the baseline
    (CPU rather than the wall clock, which other processes' load moves by more than a step's share)."""
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
