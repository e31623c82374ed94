"""What a customer waits on AWS, and what a million payments cost, from the committed Terraform values of
``envs/aws`` (issue 19).

    make docs        (or: python -m tests.reliability.customer_waits --write docs/performance.md)

rewrites the block between the markers below in docs/performance.md (``make bench`` keeps it); ``make docs-check``
fails when the committed block differs from what the Terraform values give now, and
``tests/reliability/test_customer_waits.py`` checks the issue's limits (one 500 <= 10 s, one 429 <= 60 s).
Nothing here is measured on AWS: the inputs that are not Terraform values (SQS's pick-up delay, the AWS calls'
latency, AWS prices: ``tests/reliability/costs.py``) are stated as such.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from novamart_payments.budget import slots_for
from novamart_payments.config import RECORD_MAX_GATEWAY_CALLS, Config, receives_for_horizon

from tests.reliability import costs
from tests.reliability.terraform_values import TERRAFORM, Module, function_limits

BEGIN = "<!-- customer-waits:begin (python -m tests.reliability.customer_waits --write docs/performance.md) -->"
END = "<!-- customer-waits:end -->"

# Inputs that are not Terraform values (Stripe's latency is: gateway_request_latency_ms, which sizes the mappings).
PICKUP_S = 1.0  # a message visible again is picked up by the Lambda pollers (long polling) within about this
# the record's DynamoDB and EventBridge calls (claim, intent, PutEvents, final write, a budget counter per request)
AWS_CALLS_S = (len(costs.TRIGGER_CALLS) + 2) * costs.AWS_CALL_S
SDK_FIRST_BACKOFF_S = 0.5  # stripe-python's delay before its first network retry (INITIAL_DELAY)
BURST = 10_000
STRIPE_LIVE_LIMIT = 100  # requests/s of a live Stripe account


@dataclass(frozen=True)
class Waits:
    schedule: tuple[int, ...]
    jitter: float
    horizon: int
    receives: int
    lambda_timeout: float
    visibility: float
    batch: int
    concurrency: int
    memory_mb: int
    reconcile_after: int
    reconcile_every: int
    sdk_retries: int
    budget: int
    latency: float  # one Stripe request, p50 (gateway_request_latency_ms; p99 about 2 s)
    requests_per_payment: int

    def arrival(self, receive: int) -> float:
        """When the ``receive``-th delivery starts, after failures on all earlier ones (jitter at its centre)."""
        return sum(self.schedule[min(k, len(self.schedule)) - 1] + PICKUP_S for k in range(1, receive))

    @property
    def payment_seconds(self) -> float:
        return self.requests_per_payment * self.latency + AWS_CALLS_S


def from_terraform(terraform: Path = TERRAFORM) -> Waits:
    root = Module(terraform / "envs" / "aws")
    service = root.child("service")
    limits = function_limits("aws", terraform)
    schedule = tuple(int(s) for s in service.var("retry_schedule_seconds"))
    horizon = int(service.var("retry_horizon_seconds"))
    every = re.fullmatch(r"rate\((\d+) minutes?\)", str(service.var("reconcile_schedule")))
    assert every, service.var("reconcile_schedule")
    defaults = Config.__dataclass_fields__
    return Waits(
        schedule=schedule,
        jitter=float(service.var("retry_jitter")),
        horizon=horizon,
        receives=receives_for_horizon(schedule, horizon),
        lambda_timeout=limits.lambda_timeout_seconds,
        visibility=limits.visibility_timeout_seconds,
        batch=limits.batch_size,
        concurrency=int(service.evaluate(service.locals["maximum_concurrency"])),
        memory_mb=int(service.var("lambda_memory_size")),
        reconcile_after=int(service.var("reconcile_pending_after_seconds")),
        reconcile_every=int(every.group(1)) * 60,
        budget=int(service.var("gateway_budget_per_second")),
        latency=float(service.var("gateway_request_latency_ms")) / 1000,
        requests_per_payment=int(service.locals["gateway_requests_per_payment"]),
        sdk_retries=int(
            limits.environment_overrides.get("STRIPE_MAX_NETWORK_RETRIES", defaults["gateway_max_retries"].default)
        ),
    )


def one_500(w: Waits) -> float:
    """A 500 on confirm: the SDK retries in the invocation (same key) after its first backoff."""
    assert w.sdk_retries >= 1
    return SDK_FIRST_BACKOFF_S + w.latency


def one_429(w: Waits) -> float:
    """A 429 on confirm (the SDK does not retry it): the message comes back after the first backoff at its jitter's
    top, is picked up, and the redelivery confirms the stored intent (one request)."""
    return w.schedule[0] * (1 + w.jitter) + PICKUP_S + w.latency + AWS_CALLS_S


def outage(w: Waits, seconds: float) -> float:
    """Every request fails for ``seconds``: the first delivery starting after it ends succeeds."""
    for receive in range(1, w.receives + 1):
        if w.arrival(receive) >= seconds:
            return w.arrival(receive) + w.payment_seconds
    # Past the horizon: dead-lettered; reconciliation fails it after reconcile_after, at its next pass.
    return max(seconds, w.reconcile_after) + w.reconcile_every


def drain(w: Waits) -> tuple[float, float]:
    """(payments/s, seconds for the burst): the mappings' concurrency or the shared budget, whichever is tighter."""
    rate = min(w.concurrency * w.batch / (w.batch * w.payment_seconds), _sustained(w.budget) / w.requests_per_payment)
    return rate, BURST / rate


def cost_inputs(w: Waits, terraform: Path = TERRAFORM) -> costs.CostInputs:
    service = Module(terraform / "envs" / "aws").child("service")
    majors = {k.strip('"'): v for k, v in service.var("event_majors").items()}["payment.succeeded"]
    table = service.child("tables").resources("aws_dynamodb_table")["this"]  # payments and refunds alike
    indexes = list(table["global_secondary_index"]) + [
        block
        for dyn in table.get("dynamic", [])
        for name, body in dyn.items()
        if name.strip('"') == "global_secondary_index"
        for block in body["content"]
    ]
    return costs.CostInputs(
        memory_mb=w.memory_mb,
        latency=w.latency,
        requests_per_payment=w.requests_per_payment,
        payment_succeeded_majors=1 + len(majors.get("deprecated", {})),
        gsis=sum(1 for index in indexes if index["projection_type"].strip('"') == "ALL"),
        concurrency=w.concurrency,
        rate=drain(w)[0],
    )


def render(terraform: Path = TERRAFORM) -> str:
    w = from_terraform(terraform)
    rate, drain_s = drain(w)
    live = STRIPE_LIVE_LIMIT * 0.8 / 2
    lines_ = costs.lines(cost_inputs(w, terraform))
    total = sum(line.per_million for line in lines_)
    rows = "\n".join(f"| {x.service} | ${x.per_million:.2f} | {x.arithmetic} |" for x in lines_)
    sources = ", ".join(f"[{name}]({url})" for name, url in costs.SOURCES.items())
    five, two = outage(w, 300), outage(w, 7200)
    lines = [
        BEGIN,
        "## What a customer waits on AWS (from the Terraform values of `envs/aws`)",
        "",
        f"Inputs from Terraform: retry schedule {list(w.schedule)} s +/- {w.jitter:.0%}, horizon {w.horizon} s "
        f"(maxReceiveCount {w.receives}), Lambda timeout {w.lambda_timeout:.0f} s (visibility {w.visibility:.0f} s, "
        f"waited out only after a crash), batch {w.batch}, mapping concurrency {w.concurrency}, "
        f"{w.memory_mb} MB, SDK retries {w.sdk_retries}, reconciliation every {w.reconcile_every} s for PENDING "
        f"payments older than {w.reconcile_after} s, Stripe {w.latency:g} s per request (p50, the assumption that "
        f"sizes the mapping concurrency), gateway budget {w.budget} req/s. Not from Terraform: pick-up of a "
        f"message visible again {PICKUP_S} s, the record's AWS calls {AWS_CALLS_S} s.",
        "",
        "| event | the customer's outcome arrives after | arithmetic |",
        "|---|---|---|",
        *(f"| {event} | {after} | {why} |" for event, after, why in _wait_rows(w, five, two, rate, drain_s, live)),
        "",
        f"Cost per million payments on the happy path (both triggers, one webhook; 2 gateway requests per payment, "
        f"{RECORD_MAX_GATEWAY_CALLS} at most): **${total:.2f}**. AWS list prices for us-east-2, on-demand, x86, no "
        f"free tier, as recorded on {costs.PRICES_DATE} from {sources} (not re-read from this machine: check them "
        "before quoting); the model and its counts: `tests/reliability/costs.py`.",
        "",
        "| service | per million payments | arithmetic (count per payment x list price) |",
        "|---|---|---|",
        rows,
        "",
        costs.FIXED_MONTHLY,
        END,
    ]
    return "\n".join(lines) + "\n"


def _wait_rows(
    w: Waits, five: float, two: float, rate: float, drain_s: float, live: float
) -> list[tuple[str, str, str]]:
    backoffs = ", ".join(map(str, w.schedule))
    return [
        ("no failure", f"{w.payment_seconds:.2f} s", "2 Stripe requests + AWS calls"),
        (
            "one 500 on confirm",
            f"+{one_500(w):.1f} s",
            f"the SDK retries in the invocation: {SDK_FIRST_BACKOFF_S} s backoff + 1 request",
        ),
        (
            "one 429 on confirm",
            f"+{one_429(w):.1f} s at most",
            f"backoff {w.schedule[0]} s x {1 + w.jitter:.1f} + pick-up + 1 request (no new intent)",
        ),
        (
            "5-minute outage",
            f"{five:.0f} s ({five / 60:.1f} min)",
            f"the first delivery after the outage: backoffs {backoffs} s (+ pick-up each)",
        ),
        (
            "2-hour outage",
            f"at most {two:.0f} s ({two / 3600:.1f} h): `payment.failed` `gateway_unavailable`, nothing charged, "
            "no manual step",
            f"past the {w.horizon} s horizon the trigger dead-letters; reconciliation closes the record once older "
            f"than {w.reconcile_after} s, at its next pass (every {w.reconcile_every} s)",
        ),
        (
            "10,000-order burst",
            f"{drain_s:.0f} s ({drain_s / 60:.1f} min) at {rate:.1f} payments/s",
            f"the shared request budget, {w.budget} req/s ({_sustained(w.budget)} req/s sustained by its slots) / "
            f"{w.requests_per_payment} requests per payment = {_sustained(w.budget) / w.requests_per_payment:g} "
            f"payments/s; the mappings' concurrency ({w.concurrency}, sized from the budget: "
            f"{w.budget} / {w.requests_per_payment} x {w.requests_per_payment} x {w.latency:g} s) would carry "
            f"{w.concurrency} / {w.payment_seconds:.2f} s per payment = {w.concurrency / w.payment_seconds:.1f}/s; "
            f"(live limit at 80 %: {live:.0f} payments/s)",
        ),
    ]


def _sustained(budget: int) -> int:
    slots, share = slots_for(budget)
    return slots * share


def merged(document: str, block: str) -> str:
    """The document with its customer-waits block replaced (appended when it has none)."""
    if BEGIN in document:
        head, rest = document.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + block + (("\n" + tail) if tail else "")
    return document.rstrip("\n") + "\n\n" + block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path, help="rewrite the block in this file (docs/performance.md)")
    args = parser.parse_args(argv)
    block = render()
    if args.write:
        args.write.write_text(merged(args.write.read_text(encoding="utf-8"), block), encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
