"""A simulated SQS queue per function, crash injection into the service's collaborators, and the invariants.

The queue model keeps what matters for at-least-once delivery: a message is visible, in flight (received, not yet
deleted) or in the DLQ. A receive increments its receive count; the handler's ``batchItemFailures`` and a crashed
invocation both return it to visible (as the visibility timeout would), except that a message already received
``max_receive`` times moves to the DLQ instead, as SQS redrive does.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from novamart_payments import domain
from novamart_payments.domain import Status
from novamart_payments.gateway.simulated import gateway
from novamart_payments.repository import payment_from_item, refund_from_item
from novamart_payments.timestamps import iso

from tests.support.handler_calls import Context
from tools.devstack.sqs_records import record_of

QUEUE_ARN = "arn:aws:sqs:us-east-2:123456789012:rel"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Crash(BaseException):
    """The Lambda process dying mid-invocation: a BaseException, so nothing in the handler can catch it."""


def crash_targets(svc: Any) -> list[tuple[Any, str]]:
    """Every call the service can make on its collaborators, as (object, method name). Read from the classes rather
    than listed by hand, so a method added to the repository is a crash point the day it is written."""
    repo_cls = type(svc._repo)
    methods = sorted(n for n in vars(repo_cls) if not n.startswith("_") and callable(getattr(repo_cls, n)))
    return [(svc._repo, m) for m in methods] + [
        (svc._publisher, "publish"),
        *((svc._gateway, m) for m in ("begin_charge", "release_charge", "complete_charge", "refund", "find_refund")),
    ]


@dataclass(frozen=True)
class CrashPoint:
    """Die at the ``step``-th call the handler makes on a collaborator (repository, publisher, gateway) within
    one invocation, ``before`` the call or ``after`` it returned (its effect done, its answer lost)."""

    step: int
    when: str  # "before" | "after"

    def __str__(self) -> str:
        return f"step {self.step} {self.when}"


@contextmanager
def crash_at(svc: Any, point: CrashPoint | None) -> Iterator[list[str]]:
    """Arm one crash for the duration of the block; yields the list of calls made (``!`` marks the crash)."""
    calls: list[str] = []
    if point is None:
        yield calls
        return
    targets = crash_targets(svc)

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            if len(calls) == point.step:
                calls[-1] += "!"
                if point.when == "after":
                    real(*args, **kwargs)
                raise Crash(f"{name} {point.when}")
            return real(*args, **kwargs)

        return wrapper

    for owner, method in targets:
        setattr(owner, method, wrap(method, getattr(owner, method)))  # an instance attribute shadows the method
    try:
        yield calls
    finally:
        for owner, method in targets:
            delattr(owner, method)


# --- simulated SQS ------------------------------------------------------------------------------------------


class VisibilityClock:
    """The service's clock in the state machine: a message that comes back after a crash comes back after the
    queue's visibility timeout, so the clock jumps by that much (refund leases taken by the dead invocation have
    expired by then, as they have on AWS). Nothing else moves it, so concurrent deliveries see real time."""

    VISIBILITY = timedelta(seconds=540)

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> str:
        return iso(datetime.now(UTC) + self.offset)

    def after_visibility_timeout(self) -> None:
        self.offset += self.VISIBILITY


CLOCK = VisibilityClock()


@dataclass
class Message:
    message_id: str
    body: str
    receives: int = 0


@dataclass
class SimQueue:
    name: str
    max_receive: int
    visible: list[Message] = field(default_factory=list)
    in_flight: dict[str, Message] = field(default_factory=dict)
    dlq: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, body: str) -> Message:
        message = Message(str(uuid.uuid4()), body)
        with self.lock:
            self.visible.append(message)
        return message

    def receive(self, positions: list[int]) -> list[Message]:
        """Take the visible messages at ``positions`` (in that order: this is how reordering is expressed)."""
        with self.lock:
            chosen = [self.visible[p] for p in positions]
            taken = {id(m) for m in chosen}
            self.visible = [m for m in self.visible if id(m) not in taken]
            for m in chosen:
                m.receives += 1
                self.in_flight[m.message_id] = m
            return chosen

    def receive_front(self, n: int) -> list[Message]:
        with self.lock:
            count = min(n, len(self.visible))
        return self.receive(list(range(count))) if count else []

    def delete(self, message: Message) -> None:
        with self.lock:
            self.in_flight.pop(message.message_id, None)

    def release(self, message: Message) -> None:
        """Not deleted: visible again after the visibility timeout, or into the DLQ past ``max_receive``."""
        with self.lock:
            self.in_flight.pop(message.message_id, None)
            if message.receives >= self.max_receive:
                self.dlq.append(message)
            else:
                self.visible.append(message)

    def redrive(self) -> int:
        """Move the DLQ back to the source queue (SQS ``StartMessageMoveTask``: receive counts start afresh)."""
        with self.lock:
            moved = len(self.dlq)
            for m in self.dlq:
                m.receives = 0
            self.visible.extend(self.dlq)
            self.dlq.clear()
            return moved

    @property
    def drained(self) -> bool:
        with self.lock:
            return not self.visible and not self.in_flight and not self.dlq


def sqs_event(messages: list[Message]) -> dict[str, Any]:
    return {
        "Records": [
            record_of(m.body, message_id=m.message_id, receives=m.receives, queue_arn=QUEUE_ARN) for m in messages
        ]
    }


def deliver(handler: Handler, queue: SimQueue, messages: list[Message]) -> str:
    """One invocation with ``messages`` as its batch; settles each message the way the event-source mapping does.

    Returns "crash" when the invocation died (every message of the batch comes back), else "ok"."""
    try:
        result = handler(sqs_event(messages), Context())
    except Crash:
        for m in messages:
            queue.release(m)
        CLOCK.after_visibility_timeout()
        return "crash"
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m.message_id in failed:
            queue.release(m)
        else:
            queue.delete(m)
    return "ok"


# --- invariants ---------------------------------------------------------------------------------------------


@dataclass
class OrderView:
    """What the world looks like for one order: its records, the gateway's ledger and the published events."""

    order_id: str
    payment: domain.PaymentRecord | None
    refunds: list[domain.RefundRecord]
    charges: list[Any]
    gateway_refunds: list[Any]
    events: list[dict[str, Any]]


def ledger_by_order() -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Money movements per order, as the gateway recorded them (never matched by idempotency key)."""
    charges: dict[str, list[Any]] = {}
    refunds: dict[str, list[Any]] = {}
    for entry in gateway().ledger():
        (charges if entry.kind == "charge" else refunds).setdefault(entry.order_id, []).append(entry)
    return charges, refunds


def events_by_order(published: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event in published:
        out.setdefault(event["detail"]["data"]["orderId"], []).append(event)
    return out


def views(
    rel_aws: Any, orders: list[str], refund_ids: dict[str, set[str]], published: list[dict[str, Any]]
) -> list[OrderView]:
    payment_items, refund_items = rel_aws.get_items(
        [domain.payment_id_for(o) for o in orders], sorted({r for o in orders for r in refund_ids.get(o, ())})
    )
    payments = {p.order_id: p for p in map(payment_from_item, payment_items)}
    refunds: dict[str, list[domain.RefundRecord]] = {}
    for r in map(refund_from_item, refund_items):
        refunds.setdefault(r.order_id, []).append(r)
    charges, gateway_refunds = ledger_by_order()
    events = events_by_order(published)
    return [
        OrderView(
            o, payments.get(o), refunds.get(o, []), charges.get(o, []), gateway_refunds.get(o, []), events.get(o, [])
        )
        for o in orders
    ]


def _ids_for(view: OrderView, kind: str, key: str, record_id: str) -> dict[str, set[str]]:
    """detail-type -> event ids published for one record."""
    out: dict[str, set[str]] = {}
    for e in view.events:
        if e["detail-type"].startswith(kind + ".") and e["detail"]["data"].get(key) == record_id:
            out.setdefault(e["detail-type"], set()).add(e["detail"]["metadata"]["eventId"])
    return out


def check_always(view: OrderView) -> None:
    """Invariants that hold after every step, crashes included."""
    o = view.order_id
    # At most one charge per order, and only for an order whose payment record allows it.
    assert len(view.charges) <= 1, f"{o}: {len(view.charges)} charges"
    captured = sum(c.amount.minor_units for c in view.charges)
    refunded = sum(r.amount.minor_units for r in view.gateway_refunds)
    assert refunded <= captured, f"{o}: refunded {refunded} > captured {captured}"
    p = view.payment
    if view.charges:
        assert p is not None and not p.cancelled_before_payment, f"{o}: charged without a live payment record: {p}"
        assert p.status in (Status.PENDING, Status.SUCCEEDED), f"{o}: charged but payment is {p.status}"
    if p is not None:
        if p.status is Status.SUCCEEDED:
            assert len(view.charges) == 1, f"{o}: payment SUCCEEDED without a charge"
            assert p.amount is not None and view.charges[0].amount == p.amount
            # the reservation is taken before the gateway refunds, so the ledger never runs ahead of the record
            assert refunded <= p.refunded_minor_units <= p.amount.minor_units, (
                f"{o}: ledger refunds {refunded}, reserved {p.refunded_minor_units}, captured {p.amount}"
            )
        else:
            assert p.refunded_minor_units == 0, f"{o}: {p.status} payment has refunds reserved"
    # Every outcome has one event id, the deterministic one, and a record that is final.
    records: list[tuple[str, str, str, Any]] = []
    if p is not None:
        records.append(("payment", "paymentId", p.payment_id, p))
    records.extend(("refund", "refundId", r.refund_id, r) for r in view.refunds)
    known = {rid for _, _, rid, _ in records}
    for e in view.events:
        data = e["detail"]["data"]
        rid = data["paymentId"] if e["detail-type"].startswith("payment.") else data["refundId"]
        assert rid in known, f"{o}: published {e['detail-type']} for unknown record {rid}"
    for kind, key, rid, record in records:
        by_type = _ids_for(view, kind, key, rid)
        all_ids = set().union(*by_type.values()) if by_type else set()
        assert len(all_ids) <= 1, f"{o}: {kind} {rid} published under {len(all_ids)} event ids: {by_type}"
        if by_type and record.status is Status.PENDING:
            # Allowed: the service publishes before its final write (a crash in between leaves the record PENDING
            # and redelivery republishes the identical event). The single id above is what keeps it consistent.
            assert len(by_type) == 1, f"{o}: {kind} {rid} PENDING with two outcomes published: {by_type}"
        elif by_type:
            expected_type = f"{kind}.{'succeeded' if record.status is Status.SUCCEEDED else 'failed'}"
            assert set(by_type) == {expected_type}, f"{o}: {kind} {rid} is {record.status}, published {by_type}"
            assert all_ids == {domain.outcome_event_id(expected_type, rid)}
        if record.published:
            assert len(all_ids) == 1, f"{o}: {kind} {rid} marked published, but {len(all_ids)} event ids seen"
    for r in view.refunds:
        if r.status is Status.SUCCEEDED:
            assert any(g.refund_id == r.refund_id for g in view.gateway_refunds), f"{o}: refund {r}"


def check_quiescent(view: OrderView) -> None:
    """After every message was delivered to completion: nothing PENDING, every outcome published exactly once."""
    check_always(view)
    o, p = view.order_id, view.payment
    if p is not None:
        assert p.status is not Status.PENDING, f"{o}: payment left PENDING"
        blocked_marker = p.cancelled_before_payment and p.amount is None  # no payment trigger ever came
        if not blocked_marker:
            assert p.published, f"{o}: final payment {p.status} never marked published"
    for r in view.refunds:
        assert r.status is not Status.PENDING, f"{o}: refund {r.refund_id} left PENDING"
        assert r.published, f"{o}: refund {r.refund_id} {r.status} never marked published"
    made = sorted(g.refund_id or "" for g in view.gateway_refunds)  # one gateway refund per refund record
    assert made == sorted(r.refund_id for r in view.refunds if r.status is Status.SUCCEEDED), f"{o}: {made}"
    if p is not None and p.status is Status.SUCCEEDED:
        refunded = sum(g.amount.minor_units for g in view.gateway_refunds)
        assert refunded == p.refunded_minor_units, f"{o}: reserved {p.refunded_minor_units}, refunded {refunded}"
