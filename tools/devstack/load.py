"""``make load``: a burst of orders through functions that really run concurrently, against a gateway that behaves
like Stripe, measured where nothing can flatter it.

    python -m tools.devstack load [--orders 60] [--refund-share 0.2] [--latency-ms 300] [--fault-fraction 0.05]
        [--limiter RATE] [--emulator ministack|moto] [--port 4566] [--stripe-port 8420] [--run-dir .run]
        [--deadline 600] [--write docs/performance.md] [--seed N]

It starts a fresh emulator (MiniStack by default, which runs each function in worker processes, up to the
mapping's ``MaximumConcurrency`` at once; ``moto``: the local Lambda service in concurrent mode, threads in this
process) and the local Stripe behind its fault proxy, on loopback, builds the payment and refund path of
``envs/local`` (``load_stack``), then runs two passes of the same size: **fault-free** (latency only) and
**faulted** (latency, the rate limiter, transient 500s). Each sends every order's two payment triggers at once,
cancels a share of the orders as soon as their payment succeeds, and waits until every order has its outcome and
the queues are empty, printing progress every two seconds. After the fault-free pass a few probe orders measure the
gateway requests of a new order, of its second trigger and of a redelivery of the finished order.

Everything stops by itself: each wait is bounded by ``--deadline`` (for the whole run), the emulator and the local
Stripe are stopped (their process groups) whatever happens, and both listen on 127.0.0.1 only. ``--write`` replaces
the load section of ``docs/performance.md`` (``load_report``). Exit status 0 when the acceptance figures hold,
1 when they do not (each one missed is printed), 2 when the run could not be made.
"""

from __future__ import annotations

import math
import os
import platform
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.devstack.aws import client
from tools.devstack.events import payment_data, put_events, refund_data, trigger_event
from tools.devstack.load_bus import Bus
from tools.devstack.load_processes import start, stop
from tools.devstack.load_report import PassResult, acceptance, count_requests, rate_windows, render, write_section
from tools.devstack.load_stack import LoadStack, LocalSettings, build
from tools.devstack.stripe_faults import RemoteFaults
from tools.devstack.stripe_traffic import TrafficSettings, requests_from

REGION = "us-east-2"
QUIET_SECONDS = 3.0
PREFIX = {"fault-free": "free", "faulted": "fltd"}
LARGER = "make load LOAD_ORDERS=600"


class Deadline(RuntimeError):
    pass


@dataclass
class Options:
    orders: int = 60
    refund_share: float = 0.2
    latency_ms: float = 300.0
    jitter: float = 0.3
    fault_fraction: float = 0.05
    limiter: float | None = None  # None: at the budget
    emulator: str = "ministack"
    host: str = "127.0.0.1"
    port: int = 4566
    stripe_port: int = 8420
    run_dir: Path = Path(".run")
    deadline_seconds: float = 600.0
    write: Path | None = None
    seed: int = 19
    quiet: bool = False
    command: str = "make load"


class Run:
    def __init__(self, options: Options, stack: LoadStack, faults: RemoteFaults, stripe_base: str) -> None:
        self.o = options
        self.stack = stack
        self.faults = faults
        self.stripe_base = stripe_base
        self.rng = random.Random(options.seed)
        self.deadline = time.monotonic() + options.deadline_seconds
        self.events = client("events", stack.endpoint, stack.region)
        self.sqs = client("sqs", stack.endpoint, stack.region)
        self.bus = Bus(stack)
        self.budget = stack.settings.budget_per_second

    # ---- sending ----------------------------------------------------------------------------------------------

    def _triggers(self, order: str, amount: int) -> list[dict[str, Any]]:
        data = payment_data(order, amount, "USD", "pm_card_visa", "cus-load")
        correlation = f"corr-{order}"
        return [
            trigger_event("order.ready_for_payment", data, correlation_id=correlation),
            trigger_event("inventory.reserved", data, correlation_id=correlation),
        ]

    def _cancel_event(self, order: str) -> dict[str, Any]:
        return trigger_event("order.cancelled", refund_data(order, "load run: customer cancelled"))

    def _cancel(self, order: str) -> None:
        put_events(self.events, self.stack.bus, [self._cancel_event(order)])

    # ---- waiting ----------------------------------------------------------------------------------------------

    def _depths(self, urls: list[str]) -> tuple[int, int]:
        visible = hidden = 0
        for url in urls:
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            visible += int(attrs.get("ApproximateNumberOfMessages", 0))
            hidden += int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        return visible, hidden

    def dead_letters(self) -> int:
        return sum(self._depths([url])[0] + self._depths([url])[1] for url in self.stack.dlqs.values())

    def _say(self, text: str) -> None:
        if not self.o.quiet:
            print(text, flush=True)

    def burst(
        self, name: str, orders: list[str], cancel: set[str], passes_left: int
    ) -> tuple[float, float, float, dict[str, float], bool]:
        """Send every order's two triggers at once; cancel the chosen ones once paid; wait until all is settled.
        Returns (start, end of the backlog, end, send time per order and cancellation, every outcome in)."""
        sent: dict[str, float] = {}
        cancelled_at: dict[str, float] = {}
        start = time.time()
        batch: list[dict[str, Any]] = []
        for order in orders:
            batch.extend(self._triggers(order, self.rng.randint(500, 50_000)))
        for i in range(0, len(batch), 10):
            now = time.time()
            put_events(self.events, self.stack.bus, batch[i : i + 10])
            for event in batch[i : i + 10]:
                sent.setdefault(event["detail"]["data"]["orderId"], now)
        queues = list(self.stack.queues.values())
        backlog_end, idle_since, last_print, wanted = start, start, 0.0, set(orders)
        everything = False
        until = time.monotonic() + (self.deadline - time.monotonic()) / passes_left  # this pass's share
        while True:
            if time.monotonic() > until:
                self._say(f"   {name}: its share of the run's deadline is spent: measuring what happened so far")
                break
            for order in self.bus.take_succeeded():
                if order in cancel and order not in cancelled_at:
                    cancelled_at[order] = time.time()
                    self._cancel(order)
            visible, hidden = self._depths(queues)
            if visible >= self.stack.settings.maximum_concurrency:
                backlog_end = time.time()  # a full round of invocations still waiting: the burst goes on
            if visible + hidden:
                idle_since = time.time()
            paid, refunded = self.bus.counts(wanted)
            everything = paid == len(orders) and refunded == len(cancelled_at) == len(cancel)
            # Done when every outcome is in and the queues are empty, or when the queues have stayed empty long
            # enough for the audit queue to deliver anything still on its way (a dead letter ends nothing else).
            done = not visible + hidden and (everything or time.time() - idle_since > QUIET_SECONDS)
            if time.time() - last_print >= 2 or done:
                last_print = time.time()
                self._say(
                    f"   {name}: {time.time() - start:5.1f} s  outcomes {paid}/{len(orders)}  refunds "
                    f"{refunded}/{len(cancel)}  queued {visible} (in flight or backing off {hidden})"
                )
            if done:
                break
            time.sleep(0.2)
        for order, at in cancelled_at.items():
            sent[f"cancel:{order}"] = at
        return start, backlog_end, time.time(), sent, everything

    def _settled(self) -> None:
        """Wait until both queues are empty (bounded by the run's deadline)."""
        while self._depths(list(self.stack.queues.values())) != (0, 0):
            if time.monotonic() > self.deadline:
                raise Deadline("queues did not drain before the deadline")
            time.sleep(0.2)

    # ---- one pass ---------------------------------------------------------------------------------------------

    def one_pass(self, name: str, faulted: bool, passes_left: int) -> PassResult:
        o = self.o
        limiter = o.limiter if o.limiter is not None else float(self.budget)
        settings = TrafficSettings(
            latency_ms=o.latency_ms,
            jitter=o.jitter,
            rate_limit=limiter if faulted else 0.0,
            fault_fraction=o.fault_fraction if faulted else 0.0,
            seed=o.seed,
        )
        self.faults.shape(settings)
        self.faults.reset_traffic_log()
        dead_before = self.dead_letters()
        tag = uuid.uuid4().hex[:6]
        orders = [f"load-{PREFIX[name]}-{tag}-{i:05d}" for i in range(o.orders)]
        cancel = set(self.rng.sample(orders, round(o.orders * o.refund_share)))
        self._say(f">> {name} pass: {o.orders} orders, {len(cancel)} of them cancelled once paid")
        start, backlog_end, end, sent, complete = self.burst(name, orders, cancel, passes_left)
        snapshot = self.faults.traffic()
        self.faults.shape(TrafficSettings())  # counting below goes through the proxy: no latency, no limiter
        log = requests_from(snapshot)
        total, limited, failed, per_order = count_requests(log, set(orders))
        first = min((r.at for r in log), default=start)
        result = PassResult(
            name=name,
            orders=o.orders,
            refunds_asked=len(cancel),
            budget=self.budget,
            limiter=limiter,
            latency_ms=o.latency_ms,
            fault_fraction=settings.fault_fraction,
            seconds=end - start,
            complete=complete,
            requests=total,
            rate_limited=limited,
            injected_500=failed,
            per_order_requests=per_order,
            rate=rate_windows([r.at for r in log], first, backlog_end),
            peak_in_flight=int(snapshot["peak_in_flight"]),
            dead_letters=self.dead_letters() - dead_before,
        )
        with self.bus._lock:
            for order in orders:
                ids = self.bus.payment_ids.get(order, {})
                result.payment_outcomes[len(ids)] += 1
                # An order that never got its outcome waited for ever: it counts in the percentiles.
                result.payment_times.append(min(ids.values()) - sent[order] if ids else math.inf)
                if order in cancel:
                    rids = self.bus.refund_ids.get(order, {})
                    result.refund_outcomes[len(rids)] += 1
                    if rids:
                        result.refund_times.append(min(rids.values()) - sent[f"cancel:{order}"])
        self._money(result, set(orders), cancel)
        return result

    def _money(self, result: PassResult, orders: set[str], cancelled: set[str]) -> None:
        """Charges and refunds per order at localstripe: intents by metadata, refunds by intent."""
        from tools.devstack.stripe_local import LocalStripe

        stripe = LocalStripe(self.stripe_base).client()
        charged: dict[str, int] = {}
        charges: Counter[str] = Counter()
        order_of: dict[str, str] = {}
        for intent in stripe.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
            order = (intent.to_dict().get("metadata") or {}).get("orderId")
            if order in orders and intent.status == "succeeded":
                charges[order] += 1
                charged[order] = charged.get(order, 0) + int(intent.amount)
                order_of[intent.id] = order
        refunded: Counter[str] = Counter()
        refunds: Counter[str] = Counter()
        for refund in stripe.v1.refunds.list(params={"limit": 100}).auto_paging_iter():
            order = order_of.get(str(refund.payment_intent))
            if order is not None and refund.status in ("succeeded", "pending"):
                refunded[order] += int(refund.amount)
                refunds[order] += 1
        for order in orders:
            result.charges[charges[order]] += 1
            if order in cancelled:
                result.refunds[refunds[order]] += 1
        result.over_refunded = sum(1 for order, amount in refunded.items() if amount > charged.get(order, 0))

    def probe(self) -> dict[str, float]:
        """Gateway requests per payment, per order at the proxy: a new order (one trigger), then its second
        trigger, then the first trigger again (a redelivery of the finished order); then the probe orders are
        cancelled. Run first, with latency only: it also starts every worker the passes will use."""
        self.faults.shape(TrafficSettings(latency_ms=self.o.latency_ms, jitter=self.o.jitter, seed=self.o.seed))
        workers = 2 * self.stack.settings.maximum_concurrency
        orders = [f"load-probe-{uuid.uuid4().hex[:6]}-{i}" for i in range(workers)]
        pairs = {order: self._triggers(order, 1999) for order in orders}
        counts: dict[str, float] = {"orders": float(len(orders))}

        def step(label: str, index: int) -> None:
            before = self.faults.traffic()["requests"]
            put_events(self.events, self.stack.bus, [pairs[o][index] for o in orders])
            if label == "new":
                while self.bus.counts(set(orders))[0] < len(orders):
                    if time.monotonic() > self.deadline:
                        raise Deadline("probe orders got no outcome before the deadline")
                    time.sleep(0.2)
            self._settled()
            after = self.faults.traffic()["requests"]
            counts[label] = sum(1 for r in after[len(before) :] if r[4] in orders) / len(orders)

        step("new", 0)
        step("second", 1)
        step("redelivery", 0)
        # Warm the refund function's workers too, so neither pass pays for cold starts the other does not.
        put_events(self.events, self.stack.bus, [self._cancel_event(o) for o in orders])
        while self.bus.counts(set(orders))[1] < len(orders):
            if time.monotonic() > self.deadline:
                raise Deadline("probe refunds got no outcome before the deadline")
            time.sleep(0.2)
        self._settled()
        return counts

    def close(self) -> None:
        self.bus.stop()


def run(options: Options) -> tuple[int, PassResult | None, PassResult | None]:
    """One load run: (exit status, fault-free pass, faulted pass)."""
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("make load listens on loopback only")
    began = time.time()
    run_dir = options.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = LocalSettings.from_terraform()
    print(
        f">> load: {options.emulator} on :{options.port}, local Stripe on :{options.stripe_port}, budget "
        f"{settings.budget_per_second}/s, mapping concurrency {settings.maximum_concurrency}, logs in {run_dir}",
        flush=True,
    )
    processes = start(options.emulator, options.host, options.port, options.stripe_port, run_dir)
    lambda_service: Any = None
    load: Run | None = None
    try:
        stripe_base = f"http://{options.host}:{options.stripe_port}"
        endpoint = f"http://{options.host}:{options.port}"
        # With moto the handlers run in this process and log to its output: only their warnings, beside the progress.
        quiet_handlers = options.emulator == "moto"
        stack = build(endpoint, REGION, stripe_base, settings, log_level="WARNING" if quiet_handlers else "INFO")
        if options.emulator == "moto":
            from tools.devstack.lambda_service import LocalLambdaService

            lambda_service = LocalLambdaService(endpoint, REGION, idle_sleep_seconds=0.02, concurrent=True)
            lambda_service.discover()
            lambda_service.start()
        load = Run(options, stack, RemoteFaults(stripe_base), stripe_base)
        try:
            probe = load.probe()
        except Deadline as exc:  # measured as not known; the passes still run in what time is left
            print(f"error: {exc}", file=sys.stderr)
            probe = {}
        free = load.one_pass("fault-free", faulted=False, passes_left=2)
        free.probe = probe
        faulted = load.one_pass("faulted", faulted=True, passes_left=1)
    finally:
        if load is not None:
            load.close()
        if lambda_service is not None:
            lambda_service.stop()
        stop(processes)
    from novamart_payments.budget import slots_for

    slots, share = slots_for(settings.budget_per_second)
    info = {
        "command": options.command,
        "seconds": time.time() - began,
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        "runner": (
            "MiniStack 1.5.33 (each function in worker processes of its own)"
            if options.emulator == "ministack"
            else "the local Lambda service on moto (concurrent mode: threads in the load process)"
        ),
        "concurrency": settings.maximum_concurrency,
        "sustained": slots * share,
        "jitter": options.jitter,
        "larger": LARGER,
    }
    section = render(info, free, faulted)
    print(section)
    if options.write is not None:
        write_section(options.write, section)
        print(f">> wrote the load section of {options.write}")
    missed = acceptance(free, faulted)
    for line in missed:
        print(f"missed: {line}", file=sys.stderr)
    return (1 if missed else 0), free, faulted
