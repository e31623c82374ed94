"""Load: many payment triggers, a fifth of them duplicates, eight concurrent workers sharing two queues.

Unique orders get a success, decline or transient token; duplicates are either the same event again (same event id)
or the order's other payment trigger (new event id). A few poison messages (schema-invalid, carrying a card number and
a token) ride along: they must end in the DLQ without side effects and without leaking. Workers receive batches of up
to 10 (the event-source mapping's batch size) in whatever order the queue hands them out, exactly like the Lambda
service would; failed records come back until ``maxReceiveCount``. Then every order is checked: at most one charge,
exactly one for approved tokens, and exactly one outcome event id on the bus.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from typing import Any

import pytest
from novamart_payments import domain
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.reliability.harness import SimQueue, check_quiescent, deliver, views
from tests.support.reliability_aws import RelAws
from tests.support.reliability_run import PROFILE, REPORT
from tests.support.trigger_events import payment_event, refund_event

pytestmark = pytest.mark.reliability

WORKERS = 8
DUPLICATE_SHARE = 0.2
BATCH = 10
MAX_RECEIVE = 5
TOKENS = [("pm_card_visa", 0.8), ("pm_card_chargeDeclined", 0.1), ("pm_sim_transient1_visa", 0.1)]
POISON = 3


def _plan(total: int, rng: random.Random) -> tuple[list[str], dict[str, str], list[str]]:
    """Message bodies in queue order. A duplicate sits one to three batches behind its original, so another worker
    usually holds it while the original is still in flight: duplicates race, they do not just arrive late."""
    unique = round(total * (1 - DUPLICATE_SHARE))
    keyed: list[tuple[float, str]] = []
    token_of: dict[str, str] = {}
    firsts: list[dict[str, Any]] = []
    for i in range(unique):
        order = f"rel-load-{uuid.uuid4().hex[:12]}"
        token = rng.choices([t for t, _ in TOKENS], [w for _, w in TOKENS])[0]
        token_of[order] = token
        event = payment_event(order, minor_units=rng.randint(100, 50_000), token=token)
        firsts.append(event)
        keyed.append((i, json.dumps(event)))
    for _ in range(total - unique):
        i = rng.randrange(unique)
        event = firsts[i]
        if rng.random() < 0.5:
            body = json.dumps(event)  # the same event delivered twice
        else:
            other = json.loads(json.dumps(event))
            other["detail-type"], other["source"] = "inventory.reserved", "novamart.inventory"
            other["detail"]["metadata"]["eventId"] = str(uuid.uuid4())
            body = json.dumps(other)  # the order's other payment trigger
        keyed.append((i + rng.uniform(BATCH, 3 * BATCH), body))
    poison = []
    for _ in range(POISON):
        bad = payment_event(f"rel-load-{uuid.uuid4().hex[:12]}", token="pm_card_visa")
        bad["detail"]["data"]["cardNumber"] = "4242424242424242"
        poison.append(json.dumps(bad))
    return [body for _, body in sorted(keyed, key=lambda kv: kv[0])], token_of, poison


def _run_workers(queue: SimQueue, handler: Any) -> float:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                batch = queue.receive_front(BATCH)
                if not batch:
                    with queue.lock:
                        if not queue.visible and not queue.in_flight:
                            return
                    time.sleep(0.001)
                    continue
                deliver(handler, queue, batch)
        except BaseException as err:  # surfaced below, with the worker's traceback
            errors.append(err)

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def test_load_with_duplicates_and_eight_workers(rel_aws: RelAws) -> None:
    rng = random.Random(6)
    total = PROFILE.load_events
    bodies, token_of, poison = _plan(total, rng)
    payments = SimQueue("payment", MAX_RECEIVE)
    for body in bodies + poison:
        payments.send(body)
    elapsed = _run_workers(payments, payment_handler)
    # refunds for a tenth of the approved orders, each with a duplicate, through the refund queue concurrently
    refund_orders = [o for o, t in token_of.items() if t != "pm_card_chargeDeclined"][: max(10, total // 20)]
    refund_queue = SimQueue("refund", MAX_RECEIVE)
    for order in refund_orders:
        body = json.dumps(refund_event(order))
        refund_queue.send(body)
        refund_queue.send(body)
    refund_elapsed = _run_workers(refund_queue, refund_handler)

    assert sorted(m.body for m in payments.dlq) == sorted(poison), "only the poison messages end in the DLQ"
    assert not refund_queue.dlq
    orders = list(token_of)
    refund_ids = {o: {domain.refund_id_for(f"refund:{o}")} for o in refund_orders}
    published = rel_aws.drain()
    double_charges = lost = 0
    for i in range(0, len(orders), 25):
        for view in views(rel_aws, orders[i : i + 25], refund_ids, published):
            check_quiescent(view)
            token = token_of[view.order_id]
            expected = 0 if token == "pm_card_chargeDeclined" else 1
            double_charges += len(view.charges) > 1
            assert len(view.charges) == expected, f"{view.order_id}: {len(view.charges)} charges for {token}"
            ids = {e["detail"]["metadata"]["eventId"] for e in view.events if e["detail-type"].startswith("payment.")}
            lost += len(ids) == 0
            assert len(ids) == 1, f"{view.order_id}: payment outcome published under {len(ids)} ids"
            if view.order_id in refund_ids:
                assert [r.amount.minor_units for r in view.gateway_refunds] == [view.charges[0].amount.minor_units]
    poison_orders = {json.loads(p)["detail"]["data"]["orderId"] for p in poison}
    assert not [e for e in published if e["detail"]["data"]["orderId"] in poison_orders]
    rate = len(bodies) / elapsed
    REPORT["load"] = (
        f"{len(bodies)} payment triggers ({len(orders)} orders, {len(bodies) - len(orders)} duplicates) + {POISON} "
        f"poison, {WORKERS} workers: {elapsed:.1f} s, {rate:.0f} events/s; {2 * len(refund_orders)} refund triggers "
        f"in {refund_elapsed:.1f} s; double charges {double_charges}, lost outcome events {lost}"
    )
