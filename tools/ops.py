#!/usr/bin/env python3
"""On-call commands (docs/runbook.md, "Redrive and replay"): move dead letters back, replay published events.

    tools/ops.py redrive --queue payment|refund [--dry-run]
    tools/ops.py replay --from 2026-12-02T10:00:00Z --to 2026-12-02T11:00:00Z [--archive NAME]

They talk to whatever boto3 is configured for: the local stack through ``make redrive`` / ``make replay`` (the
Makefile points ``AWS_ENDPOINT_URL`` at the emulator), AWS with your credentials when run directly.

``redrive`` first shows what is dead-lettered (count, oldest age, and per message its event type, event id and
order id; never the payment method), then moves it back to the queue it came from: with SQS's message move task
where the service has one, otherwise by receive, send to the source queue, delete what was sent (a crash between
the send and the delete leaves a copy in both: at least once, never lost; the handlers decide again from the
order's record, so a copy changes nothing). ``--dry-run`` stops after the survey.

``replay`` replays the published events of a time window from the EventBridge archive of published events to the
bus they came from, and follows the replay until it completes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambda_src"))  # run as a script: the timestamps
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # and the repository root

from novamart_payments.timestamps import parse

from tools.devstack.aws import PAYMENT_FUNCTION, REFUND_FUNCTION

#: Each queue of `make redrive QUEUE=...`: its function's name (Terraform names the queues <function>-queue/-dlq).
QUEUES = {"payment": PAYMENT_FUNCTION, "refund": REFUND_FUNCTION}
ARCHIVE = "novamart-payments-published"  # <name_prefix>-published (terraform/modules/event_archive)
_MOVE_UNSUPPORTED = ("UnsupportedOperation", "InvalidAction", "NotImplemented", "UnknownOperation", "InternalFailure")


def _say(line: str) -> None:
    print(line, flush=True)


def _age(sent_ms: str | None, now: float) -> str:
    if not sent_ms:
        return "?"
    seconds = max(now - int(sent_ms) / 1000, 0)
    return (
        f"{seconds / 3600:.1f} h"
        if seconds >= 3600
        else f"{seconds / 60:.1f} min"
        if seconds >= 60
        else f"{seconds:.0f} s"
    )


def _describe(body: str) -> str:
    """Event type, event id and order id of a dead letter; nothing else of it is printed (no token, no amount)."""
    try:
        event = json.loads(body)
        detail = event.get("detail") or {}
        meta, data = detail.get("metadata") or {}, detail.get("data") or {}
        return f"{event.get('detail-type', '?')} eventId={meta.get('eventId', '?')} orderId={data.get('orderId', '?')}"
    except (ValueError, AttributeError):
        return "(not an event: it was refused as such and will be again)"


def _receive(sqs: Any, url: str, hide_seconds: int) -> list[dict[str, Any]]:
    out = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=hide_seconds,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(out.get("Messages", []))


def survey(sqs: Any, dlq_url: str) -> list[dict[str, Any]]:
    """Every message of the DLQ, read once (hidden while reading, then made visible again)."""
    seen: dict[str, dict[str, Any]] = {}
    while batch := [m for m in _receive(sqs, dlq_url, 60) if m["MessageId"] not in seen]:
        seen.update({m["MessageId"]: m for m in batch})
    for message in seen.values():
        with contextlib.suppress(ClientError):  # else it becomes visible by itself when its 60 s end
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return sorted(seen.values(), key=lambda m: int(m.get("Attributes", {}).get("SentTimestamp", "0")))


def _move_task(sqs: Any, dlq_arn: str, queue_arn: str, expected: int) -> bool:
    """SQS's own message move task; False when this SQS has none (emulators)."""
    try:
        handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)["TaskHandle"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if any(word in code for word in _MOVE_UNSUPPORTED) or err.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode"
        ) in (404, 500, 501):
            _say(f"   the SQS here has no message move task ({code or 'unsupported'}): moving by receive/send/delete")
            return False
        raise
    _say(f"   message move task started ({handle})")
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        task = tasks[0] if tasks else {}
        _say(f"   {task.get('Status', '?')}: {task.get('ApproximateNumberOfMessagesMoved', 0)} of {expected} moved")
        if task.get("Status") in ("COMPLETED", "FAILED", "CANCELLED"):
            if task.get("Status") != "COMPLETED":
                raise SystemExit(f"message move task {task.get('Status')}: {task.get('FailureReason', '')}")
            return True
        time.sleep(2)
    raise SystemExit("message move task still running after 15 min: follow it with `aws sqs list-message-move-tasks`")


def _move_by_hand(sqs: Any, dlq_url: str, queue_url: str) -> int:
    moved = 0
    while batch := _receive(sqs, dlq_url, 120):
        entries = [
            {
                "Id": str(i),
                "MessageBody": m["Body"],
                **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
            }
            for i, m in enumerate(batch)
        ]
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        done = [batch[int(ok["Id"])] for ok in sent.get("Successful", [])]
        for failed in sent.get("Failed", []):
            _say(f"   not sent, left in the DLQ: {batch[int(failed['Id'])]['MessageId']} ({failed.get('Code')})")
        if done:
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)
        _say(f"   {moved} moved")
        if not done:
            break  # every send failed: stop rather than spin; the messages stay in the DLQ
    return moved


def redrive(queue: str, dry_run: bool) -> int:
    sqs = boto3.client("sqs")
    function = QUEUES[queue]
    queue_url = sqs.get_queue_url(QueueName=f"{function}-queue")["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=f"{function}-dlq")["QueueUrl"]
    messages = survey(sqs, dlq_url)
    now = time.time()
    oldest = _age(messages[0]["Attributes"].get("SentTimestamp"), now) if messages else "-"
    _say(f">> {function}-dlq: {len(messages)} dead letter(s), oldest {oldest}")
    for m in messages:
        attrs = m.get("Attributes", {})
        receives = attrs.get("ApproximateReceiveCount", "?")
        _say(
            f"   {m['MessageId']}  age {_age(attrs.get('SentTimestamp'), now):>8}  {_describe(m['Body'])}"
            f" receives={receives}"
        )
    if dry_run:
        _say(">> dry run: nothing moved")
        return 0
    if not messages:
        _say(">> nothing to move")
        return 0
    _say(f">> moving them back to {function}-queue")
    arn = {
        u: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for u in (dlq_url, queue_url)
    }
    if not _move_task(sqs, arn[dlq_url], arn[queue_url], len(messages)):
        _move_by_hand(sqs, dlq_url, queue_url)
    left = int(
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    _say(f">> done: {left} left in {function}-dlq")
    return 0 if left == 0 else 1


def _when(text: str) -> datetime:
    try:
        moment = parse(text)
    except ValueError:
        raise SystemExit(f"{text!r}: expected an ISO 8601 time such as 2026-12-02T10:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def replay(start: str, end: str, archive: str, timeout: float = 900.0) -> int:
    first, last = _when(start), _when(end)
    if first >= last:
        raise SystemExit(f"FROM ({start}) must be before TO ({end})")
    last = min(last, datetime.now(UTC))  # EventBridge refuses an end in the future
    events = boto3.client("events")
    try:
        described = events.describe_archive(ArchiveName=archive)
    except ClientError as err:
        raise SystemExit(f"archive {archive}: {err.response['Error'].get('Message', err)}") from None
    bus = described["EventSourceArn"]
    window = f"{first:%Y-%m-%dT%H:%M:%SZ} .. {last:%Y-%m-%dT%H:%M:%SZ}"
    kept = described.get("EventCount", "?")
    _say(f">> archive {archive}: {kept} event(s) kept; replaying {window} to {bus.rsplit('/', 1)[-1]}")
    name = f"{archive}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"[-64:]
    events.start_replay(
        ReplayName=name,
        EventSourceArn=described["ArchiveArn"],
        EventStartTime=first,
        EventEndTime=last,
        Destination={"Arn": bus},
    )
    deadline, state = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        replayed = events.describe_replay(ReplayName=name)
        if replayed["State"] != state:
            state = replayed["State"]
            _say(f"   replay {name}: {state}")
        if state in ("COMPLETED", "FAILED", "CANCELLED"):
            if state != "COMPLETED":
                raise SystemExit(f"replay {state}: {replayed.get('StateReason', '')}")
            _say(">> done: consumers deduplicate by eventId (docs/events/delivery.md)")
            return 0
        time.sleep(1)
    raise SystemExit(f"replay {name} still {state} after {timeout:.0f} s: follow it with `aws events describe-replay`")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("redrive", help="move a queue's dead letters back to it (shows them first)")
    r.add_argument("--queue", required=True, choices=sorted(QUEUES))
    r.add_argument("--dry-run", action="store_true", help="show the dead letters, move nothing")
    p = sub.add_parser("replay", help="replay published events of a window from the archive to the bus")
    p.add_argument("--from", dest="start", required=True, help="ISO 8601 time, e.g. 2026-12-02T10:00:00Z")
    p.add_argument("--to", dest="end", required=True, help="ISO 8601 time")
    p.add_argument("--archive", default=ARCHIVE, help=f"archive name (default {ARCHIVE})")
    args = parser.parse_args(argv)
    if args.command == "redrive":
        return redrive(args.queue, args.dry_run)
    return replay(args.start, args.end, args.archive)


if __name__ == "__main__":
    sys.exit(main())
