"""Local end-to-end events/s as `make dev` runs the stack, while the audit queue fills.

A fresh patched moto server (``python -m tools.devstack emulator serve``, as ``make emulator`` runs it) gets the
payment path of the stack, made with boto3 rather than Terraform to keep the bench short: the tables, the payment
function with its environment, its SQS queue behind an EventBridge rule, the event-source mapping with
``MaximumConcurrency`` and the audit tap (a rule on everything the service publishes -> a queue). The local Lambda
service runs it as ``make dev`` does (concurrent mode), and payment events are put on the bus in a closed loop (at
most ``in_flight`` unfinished at once). Events/s is measured per window of completed events, end to end: PutEvents,
rule, queue, poller, handler (its four AWS calls), settled message.

Two runs on fresh emulators: the audit queue bounded as `make dev` now keeps it (``AuditTapBound``), and left to
fill as before. Nothing reads the audit queue in either: that is `make dev`.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-2"
BUS = "default"


def patched_emulator() -> AbstractContextManager[str]:
    """moto with the event-source-mapping patch, exactly as ``make emulator`` serves it."""
    from bench_events import moto_server

    from tools.devstack.moto_server import serve_command

    return moto_server(serve_command("127.0.0.1", "{port}"))


def build_stack(endpoint: str, concurrency: int) -> str:
    """The payment path of envs/local, made directly; returns the audit queue's URL."""
    import boto3

    from tests.support.service_aws import create_audit_queue, create_tables, handler_environment
    from tools.devstack.aws import PAYMENT_FUNCTION

    def c(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    create_tables(c("dynamodb"), "local-payments", "local-refunds")
    role = c("iam").create_role(
        RoleName="bench-local",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    env = handler_environment(endpoint, "local-payments", "local-refunds", BUS)
    env = {k: v for k, v in env.items() if not k.startswith(("AWS_",))}
    c("lambda").create_function(
        FunctionName=PAYMENT_FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="novamart_payments.handlers.payment.handler",
        Code={"ZipFile": _empty_zip()},
        Timeout=60,
        MemorySize=256,
        Environment={"Variables": env},
    )
    sqs = c("sqs")
    queue_url = sqs.create_queue(QueueName="bench-payment-q", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = c("events")
    events.put_rule(
        Name="bench-payment-trigger",
        EventPattern=json.dumps({"source": ["novamart.orders"], "detail-type": ["order.ready_for_payment"]}),
    )
    events.put_targets(Rule="bench-payment-trigger", Targets=[{"Id": "queue", "Arn": queue_arn}])
    c("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=PAYMENT_FUNCTION,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": concurrency},
    )
    return create_audit_queue(sqs, events, "bench-audit")


def _empty_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("placeholder.txt", "moto stores the code; the local Lambda service runs the sources")
    return buf.getvalue()


def _entry(order_id: str) -> dict[str, Any]:
    from bench_events import payment_event

    event = payment_event(order_id)
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "EventBusName": BUS,
    }


def run(events_total: int, window: int, bounded: bool, concurrency: int = 5, in_flight: int = 40) -> dict[str, Any]:
    """Events/s per window of ``window`` completed events over ``events_total`` events on a fresh emulator."""
    import boto3
    from novamart_payments.handlers import _batch

    from tools.devstack.audit import AuditTapBound
    from tools.devstack.lambda_service import LocalLambdaService

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "test")
    # A fresh container: the service (repository, publisher, simulated gateway) is built on the first event from
    # the function's own environment, not kept from an earlier bench in this process.
    _batch.service.cache_clear()
    with patched_emulator() as endpoint:
        audit_url = build_stack(endpoint, concurrency)
        service = LocalLambdaService(endpoint, REGION, idle_sleep_seconds=0.01, concurrent=True)
        service.discover()
        bound = AuditTapBound(endpoint, REGION, audit_url, max_depth=100) if bounded else None
        stop = threading.Event()

        def keep_bounded() -> None:
            while bound is not None and not stop.wait(0.5):
                bound.enforce()

        keeper = threading.Thread(target=keep_bounded, daemon=True)
        keeper.start()
        service.start()
        events = boto3.client("events", endpoint_url=endpoint, region_name=REGION)
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        marks: list[tuple[int, float]] = []
        sent = 0
        start = time.monotonic()
        deadline = start + 600
        try:
            while True:
                done = sum(1 for t in list(service.tracks.values()) if t.state == "succeeded")
                if not marks or done >= marks[-1][0] + window:
                    marks.append((done - done % window if marks else 0, time.monotonic()))
                if done >= events_total:
                    break
                if time.monotonic() > deadline or (done == 0 and time.monotonic() > start + 60):
                    failing = sum(1 for t in list(service.tracks.values()) if t.state != "succeeded")
                    raise TimeoutError(
                        f"{done} of {events_total} events done in {time.monotonic() - start:.0f} s, {failing} failing; "
                        f"errors: {service.errors[:3]}"
                    )
                room = min(10, in_flight - (sent - done), events_total - sent)
                if room > 0:
                    response = events.put_events(Entries=[_entry(f"local-{uuid.uuid4()}") for _ in range(room)])
                    assert response["FailedEntryCount"] == 0, response
                    sent += room
                else:
                    time.sleep(0.005)
        finally:
            stop.set()
            service.stop()
        depth = int(
            sqs.get_queue_attributes(QueueUrl=audit_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
    rates = [(b[0] - a[0]) / (b[1] - a[1]) for a, b in itertools.pairwise(marks) if b[0] > a[0]]
    return {
        "bounded": bounded,
        "events": events_total,
        "window": window,
        "concurrency": concurrency,
        "eps_by_window": [round(r, 1) for r in rates],
        "overall_eps": events_total / (marks[-1][1] - start),
        "last_over_first": rates[-1] / rates[0] if rates else float("nan"),
        "audit_depth_at_end": depth,
        "moved_from_audit": bound.moved if bound is not None else 0,
        "errors": list(service.errors),
    }


def measure(events_total: int, window: int) -> dict[str, Any]:
    return {"bounded": run(events_total, window, True), "unbounded": run(events_total, window, False)}


if __name__ == "__main__":
    for extra in (REPO, REPO / "lambda_src", REPO / "tests" / "bench"):
        sys.path.insert(0, str(extra))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(json.dumps(measure(n, max(50, n // 8)), indent=2))
