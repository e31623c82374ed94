"""The local Lambda service as a background process: runs the deployed functions for the embedded emulator.

    python -m tools.devstack dev start  [--run-dir .run] [--retry-delay 1] [--timeout 60] [--audit-max-depth 100]
                                                     detached; pid + log in run-dir
    python -m tools.devstack dev stop   [--run-dir .run]
    python -m tools.devstack dev status [--run-dir .run]
    python -m tools.devstack dev run    [--retry-delay 1] [--audit-max-depth 100]   in the foreground (Ctrl-C stops)

moto stores the Lambda functions and SQS event-source mappings that Terraform creates but cannot run them. This
service reads them back from the emulator and does what AWS Lambda would: poll each mapped queue, invoke the
configured handler in-process with the function's environment, delete what succeeded and leave failures to the
queue's redrive policy (see ``tools.devstack.lambda_service`` for the exact semantics and the emulated backoff).
It also serves the webhook function's URL on a loopback port (the local Stripe's webhooks are pointed at it) and
runs the reconciliation schedule at its rate (``tools.devstack.urls_and_schedules``).
So anything that puts an event on the bus - ``make seed``, ``make demo``, your own ``aws events put-events``
- is processed as it would be on AWS. It rereads the mappings every 10 s, so a re-apply is picked up.

As Lambda does, each mapping runs up to its ``MaximumConcurrency`` invocations at once, so concurrent deliveries
really happen locally. The audit queue, which nothing reads under ``make dev``, is kept at most
``--audit-max-depth`` messages deep (0: unbounded): the overflow, oldest first, goes to
``<run-dir>/published-events.jsonl``. A full audit queue would slow every PutEvents down (moto's SendMessage cost
grows with the queue's depth), so local throughput would decay as events accumulate.

The endpoint and region come from ``AWS_ENDPOINT_URL`` / ``AWS_REGION`` (the Makefile exports both). With
``EMULATOR=localstack`` there is nothing to do: Lambda runs inside LocalStack.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tools.devstack.audit import AuditTapBound
from tools.devstack.aws import emulator_kind, endpoint_from_env, region_from_env, stand_in_enabled
from tools.devstack.lambda_service import LocalLambdaService
from tools.devstack.moto_server import is_healthy
from tools.devstack.processes import pid_alive, read_pid, report_start, spawn_detached, stop_pid, wait_until
from tools.devstack.stack import discover_stack
from tools.devstack.urls_and_schedules import connect_webhooks, serve_urls_and_schedules, webhook_endpoint

PID_FILE = "localsvc.pid"
LOG_FILE = "localsvc.log"
READY_FILE = "localsvc.ready"
AUDIT_SINK = "published-events.jsonl"


def run(
    endpoint: str, region: str, retry_delay: int, ready_file: Path | None, audit_max_depth: int, audit_sink: Path | None
) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout, force=True
    )
    log = logging.getLogger("localsvc")
    service = LocalLambdaService(
        endpoint, region, retry_delay_seconds=retry_delay, idle_sleep_seconds=0.1, concurrent=True
    )
    stopping = {"now": False}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("local Lambda service for %s (%s); retry backoff %ds", endpoint, region, retry_delay)
    while not stopping["now"]:  # wait for the stack: the service may start before or during an apply
        try:
            if service.discover():
                break
            log.info("no SQS event-source mappings yet; is the stack applied? (make deploy-local)")
        except Exception as exc:
            log.warning("emulator not answering (%s); retrying", type(exc).__name__)
        time.sleep(2)
    if stopping["now"]:
        return 0
    service.rediscover_seconds = 10.0
    service.start()
    served = serve_urls_and_schedules(endpoint, region, service.invoker)  # the webhook URL, the reconciliation schedule
    if ready_file is not None:
        ready_file.write_text(f"{len(service.mappings)} mappings\n")
    log.info(
        "serving %d mappings (%s invocations at once)",
        len(service.mappings),
        ", ".join(f"{m.function.name} {service.concurrency_limit(m)}" for m in service.mappings),
    )
    bound: AuditTapBound | None = None
    next_check = 0.0
    while not stopping["now"]:
        time.sleep(0.2)
        if audit_max_depth <= 0 or time.monotonic() < next_check:
            continue
        next_check = time.monotonic() + 1.0
        try:
            if bound is None or bound.queue_url != service.audit_queue_url:
                bound = None
                if service.audit_queue_url:
                    bound = AuditTapBound(
                        endpoint, region, service.audit_queue_url, max_depth=audit_max_depth, sink=audit_sink
                    )
                    log.info("audit queue kept at most %d deep; overflow to %s", audit_max_depth, audit_sink)
            if bound is not None and (moved := bound.enforce()):
                log.info("audit queue above %d: moved %d published events to %s", audit_max_depth, moved, audit_sink)
        except Exception as exc:  # emulator restarting, stack being re-applied: try again next second
            log.warning("audit bound: %s", type(exc).__name__)
    log.info("stopping")
    served.stop()
    service.stop()
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    return 0


def start(run_dir: Path, endpoint: str, region: str, retry_delay: int, timeout: float, audit_max_depth: int) -> int:
    if not stand_in_enabled():
        print(f"EMULATOR={emulator_kind()}: the emulator runs the functions; the local Lambda service is not needed")
        found = webhook_endpoint(endpoint, region, discover_stack(endpoint, region))
        if found is not None:  # the emulator serves the webhook URL itself: point the local Stripe at it
            connect_webhooks(endpoint, region, *found)
            print(f"local Stripe's webhooks go to {found[1]}")
        return 0
    run_dir.mkdir(parents=True, exist_ok=True)
    pid = read_pid(run_dir, PID_FILE)
    if pid is not None and pid_alive(pid):
        print(f"local Lambda service already running (pid {pid}); log {run_dir / LOG_FILE}")
        return 0
    if not is_healthy(endpoint):
        print(f"error: no emulator answers at {endpoint}; start the stack with make dev", file=sys.stderr)
        return 1
    ready = run_dir / READY_FILE
    ready.unlink(missing_ok=True)
    log_path = run_dir / LOG_FILE
    process = spawn_detached(
        [
            "-m",
            "tools.devstack",
            "dev",
            "run",
            "--endpoint",
            endpoint,
            "--region",
            region,
            "--retry-delay",
            str(retry_delay),
            "--ready-file",
            str(ready.resolve()),
            "--audit-max-depth",
            str(audit_max_depth),
            "--audit-sink",
            str((run_dir / AUDIT_SINK).resolve()),
        ],
        run_dir,
        PID_FILE,
        log_path,
    )
    state = wait_until(process, ready.exists, timeout, run_dir / PID_FILE)
    return report_start(
        "local Lambda service",
        process,
        state,
        log_path,
        timeout,
        where=lambda: f"serving {ready.read_text().strip()}",
        not_ready="found no event-source mappings (is the stack applied? make deploy-local)",
    )


def stop(run_dir: Path) -> int:
    pid = read_pid(run_dir, PID_FILE)
    if pid is None:
        print("local Lambda service not running (no pid file)")
        return 0
    if pid_alive(pid) and not stop_pid(pid):
        print(f"error: local Lambda service pid {pid} did not stop", file=sys.stderr)
        return 1
    print(f"local Lambda service (pid {pid}) stopped")
    (run_dir / PID_FILE).unlink(missing_ok=True)
    (run_dir / READY_FILE).unlink(missing_ok=True)
    return 0


def status(run_dir: Path) -> int:
    pid = read_pid(run_dir, PID_FILE)
    if pid is not None and pid_alive(pid):
        ready = run_dir / READY_FILE
        state = ready.read_text().strip() if ready.exists() else "waiting for the stack"
        print(f"local Lambda service running (pid {pid}): {state}; log {run_dir / LOG_FILE}")
        return 0
    print("local Lambda service not running")
    return 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--endpoint", default=endpoint_from_env())
    parser.add_argument("--region", default=region_from_env())
    parser.add_argument(
        "--retry-delay",
        type=int,
        default=1,
        help="seconds a failed message stays invisible before redelivery (emulated backoff; default 1)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds start waits for the mappings")
    parser.add_argument(
        "--audit-max-depth",
        type=int,
        default=100,
        help="keep the audit queue at most this deep, overflow to <run-dir>/" + AUDIT_SINK + " (0: unbounded)",
    )
    parser.add_argument("--ready-file", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--audit-sink", type=Path, default=None, help=argparse.SUPPRESS)


def execute(args: argparse.Namespace) -> int:
    if args.command == "start":
        return start(args.run_dir, args.endpoint, args.region, args.retry_delay, args.timeout, args.audit_max_depth)
    if args.command == "stop":
        return stop(args.run_dir)
    if args.command == "status":
        return status(args.run_dir)
    sink = args.audit_sink or args.run_dir / AUDIT_SINK
    return run(args.endpoint, args.region, args.retry_delay, args.ready_file, args.audit_max_depth, sink)
