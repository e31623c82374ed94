"""The outcomes of a load run: the audit queue (everything the service publishes) drained in the background."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from tools.devstack.aws import client
from tools.devstack.load_stack import LoadStack


@dataclass
class Bus:
    """The audit queue drained in the background: every outcome the service published, by order."""

    stack: LoadStack
    payment_ids: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))  # order -> id -> t
    refund_ids: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    succeeded: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sqs = client("sqs", self.stack.endpoint, self.stack.region)
        self._thread = threading.Thread(target=self._drain, name="load-audit", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self._sqs.receive_message(
                    QueueUrl=self.stack.audit_queue,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["SentTimestamp"],
                )
            except Exception:  # emulator busy or gone: try again shortly, until the run stops the drain
                self._stop.wait(0.2)
                continue
            messages = answer.get("Messages", [])
            for m in messages:
                event = json.loads(m["Body"])
                kind, meta, data = event["detail-type"], event["detail"]["metadata"], event["detail"]["data"]
                at = int(m["Attributes"]["SentTimestamp"]) / 1000
                with self._lock:
                    if kind.startswith("payment.") and kind != "payment.action_required":
                        ids = self.payment_ids[data["orderId"]]
                        if kind == "payment.succeeded" and not ids:
                            self.succeeded.append(data["orderId"])
                        ids.setdefault(meta["eventId"], at)
                    elif kind.startswith("refund."):
                        self.refund_ids[data["orderId"]].setdefault(meta["eventId"], at)
            if messages:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                self._sqs.delete_message_batch(QueueUrl=self.stack.audit_queue, Entries=entries)

    def take_succeeded(self) -> list[str]:
        with self._lock:
            out, self.succeeded = self.succeeded, []
            return out

    def counts(self, orders: set[str]) -> tuple[int, int]:
        with self._lock:
            return sum(1 for o in orders if self.payment_ids.get(o)), sum(1 for o in orders if self.refund_ids.get(o))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
