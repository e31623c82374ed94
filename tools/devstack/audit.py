"""Audit readers: the events the service published, as the audit queue received them.

``AuditLog`` (tests, demo) reads and validates them; ``AuditTapBound`` keeps the queue shallow where nothing reads
it (``make dev``): moto's SendMessage, and so every PutEvents the tap matches, slows down with the queue's depth
(7.8 ms at 0, 85 ms at 4,000 messages). Nothing here logs a message body: bodies carry payment-method tokens.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.devstack.aws import chunks, client

# --------------------------------------------------------------------------------------------------------------
# published events (the audit queue)


@dataclass(frozen=True)
class PublishedEvent:
    event: dict[str, Any]
    violations: tuple[str, ...]

    @property
    def detail_type(self) -> str:
        return str(self.event.get("detail-type"))

    @property
    def data(self) -> dict[str, Any]:
        return (self.event.get("detail") or {}).get("data") or {}

    @property
    def metadata(self) -> dict[str, Any]:
        return (self.event.get("detail") or {}).get("metadata") or {}

    @property
    def order_id(self) -> str | None:
        return self.data.get("orderId")


def _validator() -> Callable[[dict[str, Any]], tuple[str, ...]]:
    contracts = importlib.import_module("novamart_payments.contracts")

    def check(event: dict[str, Any]) -> tuple[str, ...]:
        if "replay-name" in event:  # moto's replays also leak its archive's own ingestion-time into the envelope
            event = {k: v for k, v in event.items() if k != "ingestion-time"}
        try:
            contracts.validate_event(event)
        except contracts.ContractViolation as exc:
            pairs = getattr(exc, "violations", None) or [("", str(exc))]
            return tuple(f"{pointer or '/'}: {message}" for pointer, message in pairs)
        return ()

    return check


class AuditTapBound:
    """Keeps the audit queue at most ``max_depth`` messages deep, moving the overflow to a JSON-lines file.

    Under ``make dev`` nobody reads the audit queue, so it would grow with every published event and slow every
    PutEvents down (moto's SendMessage cost grows with depth). A reader that keeps up (``make demo``, the
    test session's ``AuditLog``) never lets it reach the bound, so nothing it waits for is taken. The overflow
    goes, oldest first, to ``sink`` (rotated to ``<sink>.1`` past ``max_sink_bytes``): published events carry no
    payment-method token (their schemas forbid it), so they may be written out.
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        queue_url: str,
        *,
        max_depth: int = 100,
        sink: Path | None = None,
        max_sink_bytes: int = 5_000_000,
    ) -> None:
        self.queue_url = queue_url
        self.max_depth = max_depth
        self.sink = sink
        self.max_sink_bytes = max_sink_bytes
        self.moved = 0
        self._sqs = client("sqs", endpoint_url, region)

    def depth(self) -> int:
        attrs = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    def enforce(self) -> int:
        """Move what is above the bound to the sink; return how many messages were moved."""
        excess = self.depth() - self.max_depth
        moved = 0
        while excess > moved:
            got = (
                self._sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, excess - moved), WaitTimeSeconds=0
                ).get("Messages")
                or []
            )
            if not got:
                break
            self._write([m["Body"] for m in got])
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
            moved += len(got)
        self.moved += moved
        return moved

    def _write(self, bodies: list[str]) -> None:
        if self.sink is None:
            return
        self.sink.parent.mkdir(parents=True, exist_ok=True)
        if self.sink.exists() and self.sink.stat().st_size > self.max_sink_bytes:
            self.sink.replace(self.sink.with_name(self.sink.name + ".1"))
        with self.sink.open("a", encoding="utf-8") as fh:
            for body in bodies:
                fh.write(body.replace("\n", " ") + "\n")


class AuditLog:
    """Reads every event the service published from the audit queue, validating each against its schema.

    Messages are deleted once read, so one reader owns the queue (the test session, or ``make demo``).
    """

    def __init__(self, endpoint_url: str, region: str, queue_url: str, *, validate: bool = True) -> None:
        self.queue_url = queue_url
        self.events: list[PublishedEvent] = []
        self._sqs = client("sqs", endpoint_url, region)
        self._check = _validator() if validate else (lambda event: ())
        self._lock = threading.Lock()

    def poll(self) -> int:
        """Drain what is visible on the audit queue now; return how many events were read."""
        read = 0
        with self._lock:
            while True:
                got = (
                    self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                        "Messages"
                    )
                    or []
                )
                if not got:
                    return read
                for message in got:
                    try:
                        event = json.loads(message["Body"])
                        violations = self._check(event)
                    except ValueError as exc:
                        event, violations = {"body": "<not JSON>"}, (f"not JSON: {exc}",)
                    self.events.append(PublishedEvent(event, violations))
                    read += 1
                for chunk in chunks(got, 10):
                    self._sqs.delete_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                    )

    def for_order(
        self, order_id: str, detail_type: str | None = None, *, all_majors: bool = False
    ) -> list[PublishedEvent]:
        """The order's events: each outcome once, in its current major, unless ``all_majors`` (then also the
        editions of older majors still in their window). ``events`` holds (and validated) every edition."""
        current = importlib.import_module("novamart_payments.majors").is_current_edition
        return [
            e
            for e in self.events
            if e.order_id == order_id
            and (detail_type is None or e.detail_type == detail_type)
            and (all_majors or current(e.event))
        ]

    def wait_for(
        self, predicate: Callable[[list[PublishedEvent]], bool], timeout: float = 30.0, what: str = "events"
    ) -> list[PublishedEvent]:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if predicate(self.events):
                return self.events
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not published within {timeout:.0f}s")
            time.sleep(0.05)

    def wait_for_order(self, order_id: str, detail_types: Iterable[str], timeout: float = 30.0) -> list[PublishedEvent]:
        """Wait until the order has at least one event of each of ``detail_types``."""
        wanted = list(detail_types)

        def ok(_: list[PublishedEvent]) -> bool:
            seen = {e.detail_type for e in self.for_order(order_id)}
            return all(d in seen for d in wanted)

        self.wait_for(ok, timeout, f"{' + '.join(wanted)} for order {order_id}")
        return self.for_order(order_id)


def peek_queue(sqs: Any, url: str, match: Callable[[str], bool], *, remove: bool = False) -> list[dict[str, Any]]:
    """Bodies (parsed JSON) of the messages in ``url`` whose raw body ``match`` es; the others are left in place.

    Reads everything visible (hiding it briefly), deletes the matches if ``remove``, and makes the rest visible
    again at once. Meant for DLQs and other queues nobody else consumes.
    """
    found: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages") or []
        if not got:
            break
        seen.extend(got)
    for message in seen:
        mine = match(message["Body"])
        if mine:
            try:
                found.append(json.loads(message["Body"]))
            except ValueError:
                found.append({"body": "<not JSON>"})
        if mine and remove:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return found


# --------------------------------------------------------------------------------------------------------------
# building and sending trigger events
