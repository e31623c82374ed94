#!/usr/bin/env python3
"""Performance benchmarks: every figure is a ratio against a baseline measured in the same run, on the same emulator.

1. cold init: fresh process importing the handler and creating its clients / fresh process importing boto3 and
   creating the same clients (median of COLD_RUNS each, interleaved).
2. warm: p50 of one payment event through the handler (simulated gateway in-process) / p50 of a raw conditional
   PutItem + PutEvents, the two calls no correct handler can avoid. The gateway's own share is reported apart.
3. duplicate delivery p50 / p50 of a raw conditional-check failure.
4. events per second at concurrency 8: handler / raw PutItem + PutEvents pairs.
5. schema validation as a share of the warm per-event time (tests/bench/bench_validation.measure, and measured
   in the handler's own path).

The emulator is a moto server in its own process, so the handler's CPU and the emulator's do not share one GIL.
Usage: run_all.py [--write docs/performance.md] [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for extra in (REPO, REPO / "lambda_src", REPO / "tests" / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

REGION = "us-east-2"
PAYMENTS, REFUNDS = "bench-payments", "bench-refunds"
GOALS = {"cold": 1.15, "warm": 1.25, "duplicate": 1.5, "throughput": 0.8, "validation": 0.05}


# --- emulator ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def emulator() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def configure_env(endpoint: str) -> dict[str, str]:
    from tests.support.service_aws import handler_environment

    env = {
        **handler_environment(endpoint, PAYMENTS, REFUNDS),
        "POWERTOOLS_SERVICE_NAME": "novamart-payments",
        "LOG_LEVEL": "INFO",
    }
    os.environ.update(env)
    for key in ("AWS_CALL_TIMEOUT_SECONDS", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(key, None)
    return env


def create_tables() -> None:
    import boto3

    from tests.support.service_aws import create_tables as create_service_tables

    ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=REGION)
    create_service_tables(ddb, PAYMENTS, REFUNDS)


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Powertools writes each log line and metric to fd 1, as on Lambda; send them to /dev/null while measuring
    (the writes still happen, so their cost stays in the figures)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


# --- 1. cold init ----------------------------------------------------------------------------------------------

_COLD_HANDLER = """
import time
t0 = time.perf_counter()
import novamart_payments.handlers.payment
from novamart_payments import clients
clients.dynamodb(); clients.events()
print(time.perf_counter() - t0)
"""
_COLD_BASELINE = """
import time
t0 = time.perf_counter()
import boto3
from botocore.config import Config
session = boto3.session.Session(region_name="{region}")
cfg = Config(connect_timeout=2.0, read_timeout=2.0, retries={{"mode": "standard", "total_max_attempts": 3}})
session.client("dynamodb", config=cfg); session.client("events", config=cfg)
print(time.perf_counter() - t0)
"""

# What importing Powertools' batch utility adds once boto3, Logger and Metrics are loaded (it pulls in asyncio for
# its async processor and every event data class).
_BATCH_MARGINAL = """
import boto3, botocore.config
from aws_lambda_powertools import Logger, Metrics
import time
t0 = time.perf_counter()
import aws_lambda_powertools.utilities.batch
print(time.perf_counter() - t0)
"""


def _run_fresh(code: str, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def bench_cold(env: dict[str, str], runs: int) -> dict[str, Any]:
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO / "lambda_src")}
    handler, baseline, handler_wall, baseline_wall = [], [], [], []
    for _ in range(runs):  # interleaved, so drift on the machine hits both sides alike
        inner, wall = _run_fresh(_COLD_HANDLER, full_env)
        handler.append(inner)
        handler_wall.append(wall)
        inner, wall = _run_fresh(_COLD_BASELINE.format(region=REGION), full_env)
        baseline.append(inner)
        baseline_wall.append(wall)
    marginal = []
    for _ in range(runs):
        inner, _ = _run_fresh(_BATCH_MARGINAL, full_env)
        marginal.append(inner)
    # where the handler's extra import time goes: -X importtime, self time per top-level package
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _COLD_HANDLER], env=full_env, capture_output=True, text=True
    )
    per_package: dict[str, float] = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            top = m.group(2).split(".")[0]
            per_package[top] = per_package.get(top, 0.0) + int(m.group(1)) / 1000
    top = sorted(per_package.items(), key=lambda kv: -kv[1])[:10]
    return {
        "handler_ms": p50(handler) * 1e3,
        "baseline_ms": p50(baseline) * 1e3,
        "ratio": p50(handler) / p50(baseline),
        "handler_process_ms": p50(handler_wall) * 1e3,
        "baseline_process_ms": p50(baseline_wall) * 1e3,
        "process_ratio": p50(handler_wall) / p50(baseline_wall),
        "runs": runs,
        "powertools_batch_import_ms": p50(marginal) * 1e3,
        "import_self_ms_by_package": top,
    }


# --- in-process helpers ------------------------------------------------------------------------------------------


class Ctx:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout


def payment_event(order_id: str) -> dict[str, Any]:
    return {
        "source": "novamart.orders",
        "detail-type": "order.ready_for_payment",
        "detail": {
            "metadata": {
                "eventId": str(uuid.uuid4()),
                "schemaVersion": "1.0",
                "correlationId": f"corr-{uuid.uuid4().hex[:12]}",
                "occurredAt": "2026-11-26T10:00:00Z",
            },
            "data": {
                "orderId": order_id,
                "customerId": "cus-1001",
                "amount": {"minorUnits": 4999, "currency": "USD"},
                "paymentMethod": {"token": "pm_card_visa"},
            },
        },
    }


def sqs_batch(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": json.dumps(event),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:bench",
                "awsRegion": REGION,
            }
        ]
    }


def new_order() -> str:
    return f"bench-{uuid.uuid4().hex[:20]}"


class Baseline:
    """The two calls a correct payment handler cannot avoid: a conditional PutItem that claims the order, and
    PutEvents of its outcome; item and detail shaped like the handler's, on the same clients."""

    def __init__(self) -> None:
        from novamart_payments import clients

        self.ddb = clients.dynamodb()
        self.events = clients.events()

    def item(self, order_id: str) -> dict[str, Any]:
        return {
            "paymentId": {"S": str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))},
            "orderId": {"S": order_id},
            "customerId": {"S": "cus-1001"},
            "amount": {"N": "4999"},
            "currency": {"S": "USD"},
            "status": {"S": "PENDING"},
            "version": {"N": "1"},
            "createdAt": {"S": "2026-11-26T10:00:00.000Z"},
        }

    def put(self, order_id: str) -> None:
        self.ddb.put_item(
            TableName=PAYMENTS,
            Item=self.item(order_id),
            ConditionExpression="attribute_not_exists(paymentId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def publish(self, order_id: str) -> None:
        detail = {
            "metadata": {"eventId": str(uuid.uuid4()), "schemaVersion": "1.0", "correlationId": "corr-bench"},
            "data": {"paymentId": str(uuid.uuid4()), "orderId": order_id, "status": "SUCCEEDED"},
        }
        self.events.put_events(
            Entries=[
                {
                    "Source": "novamart.payments",
                    "DetailType": "payment.succeeded",
                    "Detail": json.dumps(detail),
                    "EventBusName": "default",
                }
            ]
        )

    def pair(self) -> str:
        order = new_order()
        self.put(order)
        self.publish(order)
        return order

    def finish(self, order_id: str, return_values: str = "ALL_NEW") -> None:
        """Not part of the baseline: a raw UpdateItem shaped like the handler's final write, to show what the
        handler's third call costs on this emulator by itself."""
        self.ddb.update_item(
            TableName=PAYMENTS,
            Key={"paymentId": {"S": str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))}},
            UpdateExpression="SET #s = :status, updatedAt = :now, version = version + :one, published = :true, "
            "transactionId = :txn, processedAt = :now",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":status": {"S": "SUCCEEDED"},
                ":pending": {"S": "PENDING"},
                ":now": {"S": "2026-11-26T10:00:00.000Z"},
                ":one": {"N": "1"},
                ":true": {"BOOL": True},
                ":txn": {"S": "ch_sim_0123456789abcdef01234567"},
            },
            ReturnValues=return_values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def conditional_failure(self, order_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.put(order_id)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
        else:
            raise AssertionError("the baseline's duplicate write must fail its condition")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Accumulator:
    """Wraps a function to add up the time spent in it (per thread-safe total)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.total += time.perf_counter() - start
                    self.calls += 1

        return wrapper


# --- 2, 3, 5: warm, duplicate, validation share ------------------------------------------------------------------


def bench_warm(n: int) -> dict[str, Any]:
    from novamart_payments import envelope, publisher
    from novamart_payments.handlers import _batch
    from novamart_payments.handlers.payment import handler

    base = Baseline()
    svc = _batch.service()
    gateway_time, validation_time = Accumulator(), Accumulator()
    originals = (envelope.validate_event, publisher.validate_event)
    svc._gateway.charge = gateway_time.wrap(svc._gateway.charge)
    envelope.validate_event = validation_time.wrap(envelope.validate_event)
    publisher.validate_event = validation_time.wrap(publisher.validate_event)
    try:
        for _ in range(30):  # warm-up: validators compiled, connections open
            handler(sqs_batch(payment_event(new_order())), Ctx())
            base.pair()
        gateway_time.total = validation_time.total = 0.0
        gateway_time.calls = validation_time.calls = 0
        handler_s, baseline_s, finish_s = [], [], []
        for _ in range(n):
            event = sqs_batch(payment_event(new_order()))
            handler_s.append(timed(lambda event=event: handler(event, Ctx())))
            start = time.perf_counter()
            order = base.pair()
            baseline_s.append(time.perf_counter() - start)
            # the final write exactly as the service makes it (no new image requested back)
            finish_s.append(timed(lambda order=order: base.finish(order, "NONE")))
        handler_total = sum(handler_s)
        gateway_per_event = gateway_time.total / max(gateway_time.calls, 1)
        validation_share = validation_time.total / handler_total
        validations_per_event = validation_time.calls / n
    finally:
        del svc._gateway.charge
        envelope.validate_event, publisher.validate_event = originals
    return {
        "handler_p50_ms": p50(handler_s) * 1e3,
        "baseline_p50_ms": p50(baseline_s) * 1e3,
        "ratio": p50(handler_s) / p50(baseline_s),
        "finish_p50_ms": p50(finish_s) * 1e3,
        "call_floor_ratio": (p50(baseline_s) + p50(finish_s)) / p50(baseline_s),
        "gateway_ms_per_event": gateway_per_event * 1e3,
        "gateway_share": gateway_per_event / p50(handler_s),
        "validation_share_measured": validation_share,
        "validations_per_event": validations_per_event,
        "n": n,
    }


def bench_duplicate(n: int) -> dict[str, Any]:
    from novamart_payments.handlers.payment import handler

    base = Baseline()
    order = new_order()
    event = payment_event(order)
    handler(sqs_batch(event), Ctx())  # first delivery: charged, published, final
    base_order = new_order()
    base.put(base_order)
    for _ in range(20):
        handler(sqs_batch(event), Ctx())
        base.conditional_failure(base_order)
    handler_s, baseline_s = [], []
    for _ in range(n):
        batch = sqs_batch(event)
        handler_s.append(timed(lambda batch=batch: handler(batch, Ctx())))
        baseline_s.append(timed(lambda: base.conditional_failure(base_order)))
    return {
        "handler_p50_ms": p50(handler_s) * 1e3,
        "baseline_p50_ms": p50(baseline_s) * 1e3,
        "ratio": p50(handler_s) / p50(baseline_s),
        "n": n,
    }


# --- 4. throughput ------------------------------------------------------------------------------------------------


def bench_throughput(n: int, workers: int = 8) -> dict[str, Any]:
    from novamart_payments.handlers.payment import handler

    base = Baseline()

    def run(fn: Callable[[int], Any]) -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fn, range(n)))
        return n / (time.perf_counter() - start)

    def handler_round() -> float:
        events = [sqs_batch(payment_event(new_order())) for _ in range(n)]

        def one(i: int) -> None:
            result = handler(events[i], Ctx())
            assert result["batchItemFailures"] == [], result

        return run(one)

    handler_eps, baseline_eps = [], []
    for _ in range(2):  # alternate twice and keep each side's better round (the one least disturbed)
        handler_eps.append(handler_round())
        baseline_eps.append(run(lambda i: base.pair()))
    return {
        "handler_eps": max(handler_eps),
        "baseline_eps": max(baseline_eps),
        "ratio": max(handler_eps) / max(baseline_eps),
        "n": n,
        "workers": workers,
    }


# --- profile ------------------------------------------------------------------------------------------------------


def profile_warm(n: int) -> str:
    from novamart_payments.handlers.payment import handler

    events = [sqs_batch(payment_event(new_order())) for _ in range(n)]
    prof = cProfile.Profile()
    prof.enable()
    for e in events:
        handler(e, Ctx())
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(
        r"novamart_payments|botocore/(client|endpoint|httpsession|parsers|serialize)|jsonschema|powertools|http/client|socket",
        28,
    )
    lines = [ln for ln in out.getvalue().splitlines() if re.match(r"\s*\d", ln)]
    total = stats.total_tt  # type: ignore[attr-defined]
    header = f"cProfile, {n} warm payment events, {total * 1e3 / n:.2f} ms profiled per event (cumulative, top)"
    return header + "\n" + "\n".join(_shorten(ln) for ln in lines[:28])


def _shorten(line: str) -> str:
    return re.sub(r"\S*/site-packages/|\S*/lambda_src/|\S*/lib/python3\.\d+/", "", line)


# --- report ------------------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "moto": metadata.version("moto"),
        "boto3": metadata.version("boto3"),
        "aws-lambda-powertools": metadata.version("aws-lambda-powertools"),
        "jsonschema": metadata.version("jsonschema"),
    }


def verdict(ratio: float, goal: float, higher_is_better: bool = False) -> str:
    ok = ratio >= goal if higher_is_better else ratio <= goal
    return "met" if ok else "**missed**"


def render(r: dict[str, Any], elapsed: float) -> str:
    m, cold, warm, dup, thr, val = r["machine"], r["cold"], r["warm"], r["duplicate"], r["throughput"], r["validation"]
    validation_est = val["estimated_share"]
    rows = [
        (
            "1. Cold init (import handler + create clients) / (import boto3 + same clients)",
            f"{cold['handler_ms']:.0f} ms / {cold['baseline_ms']:.0f} ms",
            f"{cold['ratio']:.2f}",
            f"≤ {GOALS['cold']}",
            verdict(cold["ratio"], GOALS["cold"]),
        ),
        (
            "2. Warm payment event p50 / raw conditional PutItem + PutEvents p50",
            f"{warm['handler_p50_ms']:.2f} ms / {warm['baseline_p50_ms']:.2f} ms",
            f"{warm['ratio']:.2f}",
            f"≤ {GOALS['warm']}",
            verdict(warm["ratio"], GOALS["warm"]),
        ),
        (
            "3. Duplicate delivery p50 / raw conditional-check failure p50",
            f"{dup['handler_p50_ms']:.2f} ms / {dup['baseline_p50_ms']:.2f} ms",
            f"{dup['ratio']:.2f}",
            f"≤ {GOALS['duplicate']}",
            verdict(dup["ratio"], GOALS["duplicate"]),
        ),
        (
            f"4. Events/s at concurrency {thr['workers']}: handler / raw PutItem + PutEvents",
            f"{thr['handler_eps']:.0f} / {thr['baseline_eps']:.0f}",
            f"{thr['ratio']:.2f}",
            f"≥ {GOALS['throughput']}",
            verdict(thr["ratio"], GOALS["throughput"], higher_is_better=True),
        ),
        (
            "5. Schema validation / warm per-event time",
            f"{val['us_per_event']:.0f} µs x {warm['validations_per_event']:.0f} per event",
            f"{validation_est:.1%} (in-path {warm['validation_share_measured']:.1%})",
            f"≤ {GOALS['validation']:.0%}",
            verdict(max(validation_est, warm["validation_share_measured"]), GOALS["validation"]),
        ),
    ]
    table = ["| benchmark | handler / baseline | ratio | goal | |", "|---|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    imports = ", ".join(f"{k} {v:.0f} ms" for k, v in cold["import_self_ms_by_package"])
    return f"""# Performance

Generated by `make bench` (`tests/bench/run_all.py`) in {elapsed:.0f} s. Every figure is a ratio against a baseline
measured in the same run on the same emulator (moto server in its own process), so the machine's speed cancels out;
the absolute milliseconds are for orientation only. Numbers are what this run measured; re-run to refresh.

Machine: {m["cpu"]}, {m["cores"]} cores, {m["os"]}; Python {m["python"]}, moto {m["moto"]}, boto3 {m["boto3"]},
aws-lambda-powertools {m["aws-lambda-powertools"]}, jsonschema {m["jsonschema"]}.

{chr(10).join(table)}

Details:
- Cold: median of {cold["runs"]} fresh processes each, interleaved; the time from the first import to both clients
  built, measured inside the process. Whole-process wall time (interpreter start included):
  {cold["handler_process_ms"]:.0f} ms / {cold["baseline_process_ms"]:.0f} ms = {cold["process_ratio"]:.2f}.
  Import self-time by top-level package in the handler process (`-X importtime`): {imports}.
- Warm: {warm["n"]} events, each a new order, alternating with the baseline pair. The simulated gateway's own share:
  {warm["gateway_ms_per_event"]:.3f} ms per event = {warm["gateway_share"]:.1%} of the handler's p50.
- Duplicate: {dup["n"]} redeliveries of one finished event against {dup["n"]} failing conditional PutItems.
- Throughput: {thr["n"]} single-record invocations on {thr["workers"]} threads in one process (the GIL included,
  as in one Lambda container driving several threads would be; real Lambda runs one invocation per container).
- Validation: `bench_validation.measure()` gives {val["us_per_event"]:.1f} µs per valid event (p50
  {val["p50_us"]:.1f} µs); the handler validates {warm["validations_per_event"]:.0f} events per payment (the trigger
  and the outcome), so the estimate is {validation_est:.1%} of the warm p50; timing `validate_event` inside the
  handler's own path gives {warm["validation_share_measured"]:.1%} of the handler's total time.

## Where the time goes

{r["analysis"]}

```
{r["profile"]}
```
"""


def analysis(r: dict[str, Any]) -> str:
    warm, cold, dup, thr = r["warm"], r["cold"], r["duplicate"], r["throughput"]
    notes = []
    if cold["ratio"] > GOALS["cold"]:
        notes.append(
            f"- Cold init ({cold['ratio']:.2f} > {GOALS['cold']}): the handler imports more than boto3: "
            "Powertools (Logger, Metrics, the batch utility) and its own modules (jsonschema and the schemas are "
            "loaded lazily, on the first event, so they are not in this figure). The per-package import self-times "
            "above name the "
            "difference; the baseline pays for boto3 and botocore only. Importing "
            "`aws_lambda_powertools.utilities.batch` alone adds "
            f"{cold['powertools_batch_import_ms']:.0f} ms once boto3, Logger and Metrics are loaded (asyncio for "
            "the async processor, every event data class), of the "
            f"{cold['handler_ms'] - cold['baseline_ms']:.0f} ms gap."
        )
    if warm["ratio"] > GOALS["warm"]:
        notes.append(
            f"- Warm ({warm['ratio']:.2f} > {GOALS['warm']}): a new payment makes {r['calls_per_payment']} AWS calls "
            "(claim PutItem, PutEvents, final UpdateItem) against the baseline's 2. A raw UpdateItem shaped like the "
            f"final write costs {warm['finish_p50_ms']:.2f} ms p50 on this emulator (moto parses update and "
            "condition expressions in Python, so it is dearer than the PutItem), so the calls alone put the floor at "
            f"{warm['call_floor_ratio']:.2f}; the remaining {warm['ratio'] - warm['call_floor_ratio']:.2f} is the "
            "handler's own CPU: Powertools' batch processing, logging and metrics, two schema validations, JSON "
            "and record parsing (profile below). The third call is the cost of recording PENDING before charging, "
            "so that a real gateway's idempotency-key expiry can never cause a second charge; no correct handler "
            "with that guarantee gets below the floor."
        )
    if dup["ratio"] > GOALS["duplicate"]:
        notes.append(
            f"- Duplicate ({dup['ratio']:.2f} > {GOALS['duplicate']}): one AWS call like the baseline, plus "
            "parsing and validating the trigger and Powertools' batch and logging overhead per record."
        )
    if thr["ratio"] < GOALS["throughput"]:
        notes.append(
            f"- Throughput ({thr['ratio']:.2f} < {GOALS['throughput']}): the same extra AWS call per event caps the "
            f"ratio at about {1 / warm['call_floor_ratio']:.2f} even with no CPU of the handler's own; the rest is "
            "the handler's CPU work (validation, logging, metrics under a lock) competing for one GIL across 8 threads "
            "while the baseline threads mostly wait on sockets."
        )
    if not notes:
        notes.append("- Every goal was met in this run.")
    return "\n".join(notes)


def calls_per_payment() -> int:
    from novamart_payments import clients
    from novamart_payments.handlers.payment import handler

    seen: list[str] = []

    def hook(event_name: str, **_: Any) -> None:
        seen.append(event_name)

    clients.dynamodb().meta.events.register("before-call", hook)
    clients.events().meta.events.register("before-call", hook)
    handler(sqs_batch(payment_event(new_order())), Ctx())
    clients.dynamodb().meta.events.unregister("before-call", hook)
    clients.events().meta.events.unregister("before-call", hook)
    return len(seen)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write the Markdown report to this file")
    parser.add_argument("--quick", action="store_true", help="small sample sizes, for trying the script out")
    args = parser.parse_args()
    sizes = {"cold": 5, "warm": 100, "dup": 100, "thr": 160, "val": 1000, "prof": 50} if args.quick else {}
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    with emulator() as endpoint:
        env = configure_env(endpoint)
        create_tables()
        print(f"emulator at {endpoint}; cold init ...", file=sys.stderr)
        results["cold"] = bench_cold(env, sizes.get("cold", 11))
        import bench_validation

        print("validation ...", file=sys.stderr)
        results["validation"] = dict(bench_validation.measure(sizes.get("val", 5000)))
        results["validation"]["p50_us"] = results["validation"]["valid"]["p50_us"]
        with quiet_stdout():
            results["calls_per_payment"] = calls_per_payment()
            print("warm ...", file=sys.stderr)
            results["warm"] = bench_warm(sizes.get("warm", 400))
            print("duplicate ...", file=sys.stderr)
            results["duplicate"] = bench_duplicate(sizes.get("dup", 400))
            print("throughput ...", file=sys.stderr)
            results["throughput"] = bench_throughput(sizes.get("thr", 600))
            print("profile ...", file=sys.stderr)
            results["profile"] = profile_warm(sizes.get("prof", 200))
    warm = results["warm"]
    results["validation"]["estimated_share"] = (
        results["validation"]["us_per_event"] * warm["validations_per_event"] / 1e6 / (warm["handler_p50_ms"] / 1e3)
    )
    results["analysis"] = analysis(results)
    report = render(results, time.perf_counter() - started)
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
