"""Hypothesis state machine over deliveries: send, duplicate, reorder, crash at any step of a handler, DLQ redrive.

Each example owns a few fresh orders and one simulated SQS queue per function. Rules send payment triggers (success,
decline and transient tokens, either detail-type) and refund triggers (full, or partial with a request id), duplicate
any message ever sent (EventBridge and SQS are at-least-once), deliver a batch of visible messages in any order with
an optional crash before or after one call the service makes, and redrive a DLQ. The invariants run after every step;
``quiesce`` (a rule, and the teardown) delivers everything to completion with crashes off and then checks that
nothing is left PENDING and every outcome was published under exactly one event id.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from novamart_payments import domain
from novamart_payments.domain import Money, RefundTrigger, TriggerMeta
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.reliability.harness import (
    CrashPoint,
    SimQueue,
    check_always,
    check_quiescent,
    crash_at,
    deliver,
    views,
)
from tests.support.reliability_aws import RelAws
from tests.support.reliability_run import HYPOTHESIS_SETTINGS, PROFILE, REPORT
from tests.support.trigger_events import payment_event, refund_event

ORDERS_PER_EXAMPLE = 3
AMOUNT = 10_000
# Terraform's maxReceiveCount is 5; the model uses 2 so that messages reach the DLQ (and get redriven) within the
# short step sequences Hypothesis explores. The receive count only decides when a message parks, not what it does.
MAX_RECEIVE = 2
TOKENS = ("pm_card_visa", "pm_card_chargeDeclined", "pm_sim_transient1_visa", "pm_sim_transient2_visa")
PAYMENT_TYPES = ("inventory.reserved", "order.ready_for_payment")
REFUND_TYPES = ("order.cancelled", "inventory.reservation_failed")
PARTIALS = (1_000, 2_500, 6_000)
QUIESCE_ROUNDS = 40

# Set by the test function before the machine runs: the emulator and the handlers' service.
WORLD: dict[str, Any] = {}
STATS = {"examples": 0, "steps": 0, "deliveries": 0, "crashes": 0, "redrives": 0}


class DeliveryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.aws: RelAws = WORLD["aws"]
        self.svc = WORLD["svc"]
        # A UUID never reads as a card number; 16 random hex characters can be 16 Luhn-valid digits (rejected).
        self.orders = [f"rel-{uuid.uuid4()}" for _ in range(ORDERS_PER_EXAMPLE)]
        self.queues = {"payment": SimQueue("payment", MAX_RECEIVE), "refund": SimQueue("refund", MAX_RECEIVE)}
        self.handlers = {"payment": payment_handler, "refund": refund_handler}
        self.sent: dict[str, list[str]] = {"payment": [], "refund": []}
        self.refund_ids: dict[str, set[str]] = {o: set() for o in self.orders}
        STATS["examples"] += 1

    # --- rules: what the outside world does -------------------------------------------------------------

    @rule(
        order=st.integers(0, ORDERS_PER_EXAMPLE - 1),
        detail_type=st.sampled_from(PAYMENT_TYPES),
        token=st.sampled_from(TOKENS),
    )
    def payment_trigger(self, order: int, detail_type: str, token: str) -> None:
        body = payment_event(
            self.orders[order], minor_units=AMOUNT, token=token, detail_type=detail_type, customer_id=f"cus-{order}"
        )
        self._send("payment", json.dumps(body))

    @rule(
        order=st.integers(0, ORDERS_PER_EXAMPLE - 1),
        detail_type=st.sampled_from(REFUND_TYPES),
        partial=st.none() | st.tuples(st.sampled_from(PARTIALS), st.integers(0, 1)),
    )
    def refund_trigger(self, order: int, detail_type: str, partial: tuple[int, int] | None) -> None:
        order_id = self.orders[order]
        if partial is None:
            body = refund_event(order_id, detail_type=detail_type)
        else:
            amount, n = partial
            # one request id always asks for the same amount, as a producer's retry would
            body = refund_event(order_id, amount, detail_type=detail_type, request_id=f"req-{amount}-{n}")
        meta = body["detail"]["metadata"]
        trigger = RefundTrigger(
            order_id,
            "r",
            None if partial is None else Money(partial[0], "USD"),
            TriggerMeta(meta["eventId"], meta["correlationId"], meta.get("requestId")),
        )
        self.refund_ids[order_id].add(domain.refund_id_for(domain.refund_key(trigger)))
        self._send("refund", json.dumps(body))

    @precondition(lambda self: bool(self.sent["payment"] or self.sent["refund"]))
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """The same event delivered again (same body, same event id) as a new SQS message."""
        name = data.draw(st.sampled_from([n for n in ("payment", "refund") if self.sent[n]]))
        body = data.draw(st.sampled_from(self.sent[name]))
        self.queues[name].send(body)

    @precondition(lambda self: any(q.visible for q in self.queues.values()))
    @rule(data=st.data())
    def deliver_batch(self, data: st.DataObject) -> None:
        """A batch of visible messages in any order, with at most one crash somewhere in the invocation."""
        name = data.draw(st.sampled_from([n for n, q in self.queues.items() if q.visible]))
        queue = self.queues[name]
        positions = data.draw(
            st.lists(
                st.integers(0, len(queue.visible) - 1), min_size=1, max_size=min(3, len(queue.visible)), unique=True
            )
        )
        crash_points = st.builds(CrashPoint, st.integers(1, 8), st.sampled_from(("before", "after")))
        crash = data.draw(st.one_of(st.none(), crash_points, crash_points))  # two in three invocations are armed
        with crash_at(self.svc, crash) as calls:
            outcome = deliver(self.handlers[name], queue, queue.receive(positions))
        note(f"{name} invocation: {outcome}; collaborator calls: {calls}")
        STATS["deliveries"] += 1
        STATS["crashes"] += outcome == "crash"

    @precondition(lambda self: any(q.visible for q in self.queues.values()))
    @rule(data=st.data())
    def deliver_another_batch(self, data: st.DataObject) -> None:
        """Same as ``deliver_batch``: a second rule doubles how often deliveries are chosen over sends."""
        self.deliver_batch(data)

    @precondition(lambda self: any(q.dlq for q in self.queues.values()))
    @rule()
    def redrive_dlqs(self) -> None:
        for q in self.queues.values():
            STATS["redrives"] += q.redrive()

    @rule()
    def quiesce(self) -> None:
        """Crashes off; redrive and deliver until every queue is empty; then the end-state invariants."""
        for _ in range(QUIESCE_ROUNDS):
            for q in self.queues.values():
                q.redrive()
            assert not any(q.in_flight for q in self.queues.values()), "messages left in flight"
            if all(q.drained for q in self.queues.values()):
                break
            for name, q in self.queues.items():
                while q.visible:
                    deliver(self.handlers[name], q, q.receive_front(10))
                    STATS["deliveries"] += 1
        else:
            stuck = {n: [json.loads(m.body)["detail-type"] for m in q.visible + q.dlq] for n, q in self.queues.items()}
            raise AssertionError(f"queues did not drain in {QUIESCE_ROUNDS} rounds with crashes off: {stuck}")
        for view in views(self.aws, self.orders, self.refund_ids, self.aws.drain()):
            check_quiescent(view)

    # --- invariants: checked after every step ----------------------------------------------------------

    @invariant()
    def safety(self) -> None:
        STATS["steps"] += 1
        for view in views(self.aws, self.orders, self.refund_ids, self.aws.drain()):
            check_always(view)

    def teardown(self) -> None:
        self.quiesce()

    def _send(self, name: str, body: str) -> None:
        self.sent[name].append(body)
        self.queues[name].send(body)


DeliveryMachine.TestCase.settings = HYPOTHESIS_SETTINGS


@pytest.mark.reliability
def test_delivery_state_machine(rel_aws: RelAws, svc: Any) -> None:
    WORLD.update(aws=rel_aws, svc=svc)
    before = dict(STATS)
    DeliveryMachine.TestCase("runTest").runTest()
    ran = {k: STATS[k] - before[k] for k in STATS}
    REPORT["state machine"] = (
        f"{ran['examples']} examples, {ran['steps']} invariant checks, {ran['deliveries']} invocations, "
        f"{ran['crashes']} crashes, {ran['redrives']} DLQ redrives (profile {PROFILE.name})"
    )
    assert ran["crashes"] > 0, "no crash was ever injected: the crash matrix is not being exercised"
