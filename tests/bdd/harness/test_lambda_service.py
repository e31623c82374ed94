"""The local Lambda service itself, against a hand-made queue + DLQ + event-source mapping in moto.

No Terraform here: these pin down the Lambda semantics the behaviour suite relies on (batch size, fresh request
ids, remaining time, partial batch failures, redrive after maxReceiveCount, the function's environment).
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tools.devstack.audit import AuditTapBound
from tools.devstack.aws import wait_until
from tools.devstack.lambda_service import LocalLambdaService
from tools.devstack.moto_patches import patch_moto_sqs_esm_invocation

REGION = "us-east-2"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    patch_moto_sqs_esm_invocation()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )


@pytest.fixture
def wiring(endpoint: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """A function + queue (maxReceiveCount 3) + DLQ + mapping (batch size 4), unique per test."""
    return _wire(endpoint, f"fn-{request.node.name[:40].replace('[', '-').replace(']', '')}")


def _wire(endpoint: str, name: str, **mapping: Any) -> dict[str, str]:
    iam, lam, sqs = (_client(s, endpoint) for s in ("iam", "lambda", "sqs"))
    role = iam.create_role(RoleName=f"r-{name}"[:64], AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def handler(e, c):\n    return None\n")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": buf.getvalue()},
        Environment={"Variables": {"NOVAMART_PROBE": name}},
        Timeout=42,
        MemorySize=384,
    )
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=name,
        BatchSize=4,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **mapping,
    )
    return {"name": name, "queue": queue, "dlq": dlq}


def _service(endpoint: str, name: str, handler: Any, *, concurrent: bool = False) -> LocalLambdaService:
    service = LocalLambdaService(endpoint, REGION, handler_overrides={name: handler}, concurrent=concurrent)
    service.discover()
    service.mappings = [m for m in service.mappings if m.function.name == name]
    assert len(service.mappings) == 1
    return service


def _send(endpoint: str, queue: str, n: int) -> None:
    sqs = _client("sqs", endpoint)
    for i in range(n):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": i}))


def _count(endpoint: str, queue: str) -> int:
    attrs = _client("sqs", endpoint).get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_batches_context_and_environment(endpoint: str, wiring: dict[str, str]) -> None:
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(
            {
                "records": len(event["Records"]),
                "request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
                "name": context.function_name,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "env": os.environ.get("NOVAMART_PROBE"),
                "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
                "source": event["Records"][0]["eventSource"],
                "receive_count": event["Records"][0]["attributes"]["ApproximateReceiveCount"],
            }
        )
        return {"batchItemFailures": []}

    _send(endpoint, wiring["queue"], 6)
    service = _service(endpoint, wiring["name"], handler)
    assert service.run_until_idle(timeout=20) == 6
    service.stop()
    assert [c["records"] for c in calls] == [4, 2]  # batch size honoured
    assert len({c["request_id"] for c in calls}) == 2  # a fresh request id per invocation
    assert all(40_000 < c["remaining"] <= 42_000 for c in calls)
    assert {(c["name"], c["memory"], c["env"], c["endpoint"], c["source"]) for c in calls} == {
        (wiring["name"], "384", wiring["name"], endpoint, "aws:sqs")
    }
    assert all(c["arn"].endswith(f":function:{wiring['name']}") for c in calls)
    assert {c["receive_count"] for c in calls} == {"1"}  # nobody else received them first
    assert "NOVAMART_PROBE" not in os.environ  # restored on stop()
    assert _count(endpoint, wiring["queue"]) == 0


def _back_off(endpoint: str, queue: str, record: dict[str, Any], seconds: int) -> None:
    """What the real function does for a failed record: set its message's own backoff."""
    _client("sqs", endpoint).change_message_visibility(
        QueueUrl=queue, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=seconds
    )


def test_partial_failures_retry_then_redrive_to_dlq(endpoint: str, wiring: dict[str, str]) -> None:
    seen: dict[str, int] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            n = json.loads(record["body"])["n"]
            seen[n] = seen.get(n, 0) + 1
            if n == 0 or (n == 1 and seen[n] < 3):  # poison: always fails; transient: fails twice
                failures.append({"itemIdentifier": record["messageId"]})
                _back_off(endpoint, wiring["queue"], record, 0)
        return {"batchItemFailures": failures}

    _send(endpoint, wiring["queue"], 3)
    service = _service(endpoint, wiring["name"], handler)
    service.run_until_idle(timeout=20)
    service.stop()
    assert seen == {0: 3, 1: 3, 2: 1}  # maxReceiveCount 3: the poison message is tried three times
    states = sorted((t.state, t.deliveries) for t in service.tracks.values())
    assert states == [("dead-lettered", 3), ("succeeded", 1), ("succeeded", 3)]
    assert _count(endpoint, wiring["queue"]) == 0
    assert _count(endpoint, wiring["dlq"]) == 1


def test_a_failed_item_comes_back_when_the_function_said_not_before(endpoint: str, wiring: dict[str, str]) -> None:
    """The service honours the visibility the function set on a failed item, as Lambda does: a 2 s backoff brings
    it back after 2 s; an item the function left alone waits out the queue's 60 s visibility timeout."""
    seen: dict[int, list[float]] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            n = json.loads(record["body"])["n"]
            seen.setdefault(n, []).append(time.monotonic())
            if len(seen[n]) == 1:
                failures.append({"itemIdentifier": record["messageId"]})
                if n == 0:
                    _back_off(endpoint, wiring["queue"], record, 2)
        return {"batchItemFailures": failures}

    _send(endpoint, wiring["queue"], 2)
    service = _service(endpoint, wiring["name"], handler).start()
    try:
        wait_until(lambda: len(seen.get(0, [])) == 2, 10, "the backed-off item's second delivery", 0.1)
        assert seen[0][1] - seen[0][0] >= 1.9
        assert len(seen[1]) == 1  # no backoff set: not redelivered before the visibility timeout
    finally:
        service.stop()


def test_exception_and_invalid_identifier_fail_the_whole_batch(endpoint: str, wiring: dict[str, str]) -> None:
    calls = {"n": 0}

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom with token pm_card_visa")
        if calls["n"] == 2:
            return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
        return None

    _send(endpoint, wiring["queue"], 2)
    service = _service(endpoint, wiring["name"], handler)
    service.run_until_idle(timeout=20)
    service.stop()
    assert calls["n"] == 3
    assert [len(i.failed_ids) for i in service.invocations] == [2, 2, 0]
    assert "pm_card_visa" not in service.invocations[0].error  # tokens are redacted from error text
    assert all(t.deliveries == 3 and t.state == "succeeded" for t in service.tracks.values())


def test_a_batch_received_after_a_configuration_change_runs_in_the_new_environment(
    endpoint: str, wiring: dict[str, str]
) -> None:
    """A poll pass works through the mappings it began with; a batch it receives after a configuration change was
    discovered runs with the new environment, as Lambda starts new execution environments after an update."""
    seen: list[str | None] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(os.environ.get("NOVAMART_PROBE"))
        return {"batchItemFailures": []}

    service = _service(endpoint, wiring["name"], handler)
    begun_with = service.mappings[0]  # what a pass already under way holds
    _client("lambda", endpoint).update_function_configuration(
        FunctionName=wiring["name"], Environment={"Variables": {"NOVAMART_PROBE": "changed"}}
    )
    service.discover()
    _send(endpoint, wiring["queue"], 1)
    assert service._poll_mapping(begun_with) == 1
    service.stop()
    assert seen == ["changed"]


def test_concurrent_deliveries_run_simultaneously(endpoint: str, wiring: dict[str, str]) -> None:
    import threading

    inside = {"now": 0, "max": 0}
    lock = threading.Lock()
    release = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> None:
        with lock:
            inside["now"] += 1
            inside["max"] = max(inside["max"], inside["now"])
            if inside["now"] == 2:
                release.set()
        release.wait(timeout=15)  # ends as soon as both are inside; long enough for a loaded machine
        with lock:
            inside["now"] -= 1

    _send(endpoint, wiring["queue"], 2)
    service = _service(endpoint, wiring["name"], handler)
    with service.concurrent_deliveries(2):
        service.run_until_idle(timeout=40)
    service.stop()
    assert inside["max"] == 2
    assert len(service.invocations) == 2


def _wait(condition: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


@pytest.mark.parametrize(("maximum_concurrency", "expected"), [(3, 3), (None, 5)])
def test_concurrent_mode_runs_up_to_the_mappings_maximum_concurrency(
    endpoint: str, request: pytest.FixtureRequest, maximum_concurrency: int | None, expected: int
) -> None:
    # What `make dev` runs: each received batch in its own invocation, at most MaximumConcurrency at once
    # (five, Lambda's starting pollers, when the mapping has none).
    scaling = {"ScalingConfig": {"MaximumConcurrency": maximum_concurrency}} if maximum_concurrency else {}
    wiring = _wire(endpoint, f"fn-conc-{request.node.callspec.id}", **scaling)
    lock, release = threading.Lock(), threading.Event()
    running = {"now": 0, "peak": 0, "records": 0}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        release.wait(timeout=20)
        with lock:
            running["now"] -= 1
            running["records"] += len(event["Records"])
        return {"batchItemFailures": []}

    _send(endpoint, wiring["queue"], 4 * (expected + 2))  # more batches than may run at once
    service = _service(endpoint, wiring["name"], handler, concurrent=True)
    service.idle_sleep_seconds = 0.01
    service.start()
    try:
        _wait(lambda: running["peak"] >= expected, f"{expected} invocations at once")
        time.sleep(0.3)  # a wrong limit would start more invocations within this
        assert running["peak"] == expected and service.in_flight() == expected
    finally:
        release.set()
        _wait(lambda: running["records"] == 4 * (expected + 2), "every message handled")
        service.stop()
    assert _count(endpoint, wiring["queue"]) == 0


def test_audit_tap_bound_moves_only_the_overflow(endpoint: str, tmp_path: Path) -> None:
    sqs = _client("sqs", endpoint)
    queue = sqs.create_queue(QueueName="audit-bound")["QueueUrl"]
    for i in range(25):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": i}))
    sink = tmp_path / "published-events.jsonl"
    bound = AuditTapBound(endpoint, REGION, queue, max_depth=10, sink=sink)
    assert bound.enforce() == 15
    assert bound.depth() == 10 and bound.enforce() == 0  # a reader that keeps up never loses anything
    moved = [json.loads(line)["n"] for line in sink.read_text().splitlines()]
    remaining = []
    while got := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        remaining += [json.loads(m["Body"])["n"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
    assert len(moved) == 15 and sorted(moved + remaining) == list(range(25))
