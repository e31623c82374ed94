"""What a million payments cost on AWS, line by line, from the Terraform values of ``envs/aws`` (issue 19).

``tests.reliability.customer_waits`` renders the table into docs/performance.md (``make docs-check`` fails when
the committed table differs from what the Terraform values give now). Every line is a count per payment times a
list price, and both are shown. The counts follow the code's calls on the happy path of one new payment: both
triggers arrive (``inventory.reserved`` and ``order.ready_for_payment``), the first pays, the second is answered
from the table, and Stripe's ``payment_intent.succeeded`` webhook finds the record final.

Prices: AWS list prices for us-east-2 (the same as us-east-1 for every line here), on-demand, x86, without free
tiers, as the project recorded them on 2026-12-02 from the AWS pricing pages named in ``SOURCES``. This machine
cannot reach those pages: re-check them before quoting a figure to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_DATE = "2026-12-02"
SOURCES = {
    "Lambda": "https://aws.amazon.com/lambda/pricing/",
    "DynamoDB": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "EventBridge": "https://aws.amazon.com/eventbridge/pricing/",
    "SQS": "https://aws.amazon.com/sqs/pricing/",
    "KMS": "https://aws.amazon.com/kms/pricing/",
    "Secrets Manager": "https://aws.amazon.com/secrets-manager/pricing/",
}
PRICE_LAMBDA_GB_S = 0.0000166667  # per GB-second (x86)
PRICE_LAMBDA_REQUEST = 0.20 / 1e6  # per invocation
PRICE_DDB_WRITE = 0.625 / 1e6  # per on-demand write request unit (1 KB)
PRICE_DDB_READ = 0.125 / 1e6  # per on-demand read request unit (4 KB, strongly consistent)
PRICE_EVENTS = 1.00 / 1e6  # per custom event entry (64 KB chunk) put on a bus
PRICE_SQS = 0.40 / 1e6  # per standard-queue request (64 KB chunk)
PRICE_KMS = 0.03 / 10_000  # per API request
PRICE_SECRETS = 0.05 / 10_000  # per API call

AWS_CALL_S = 0.01  # one DynamoDB or EventBridge call from the function (facts.md: ~10 ms on AWS, 2.6 ms on moto)
HANDLER_S = 0.005  # the handler's own work per invocation (bench row 3: ~0.2 ms CPU) plus the runtime's, rounded up
SECRET_CACHE_S = 300  # STRIPE_SECRET_MAX_AGE_SECONDS: each container reads each secret once per this
WEBHOOK_CONTAINERS = 2  # webhooks at the drain rate x ~0.04 s each: one or two warm containers


@dataclass(frozen=True)
class CostInputs:
    memory_mb: int  # lambda_memory_size
    latency: float  # gateway_request_latency_ms / 1000
    requests_per_payment: int  # gateway requests of a new payment (create, confirm)
    payment_succeeded_majors: int  # entries per payment.succeeded: its current major + those still in a window
    gsis: int  # global secondary indexes of the payments table projecting all attributes
    concurrency: int  # each mapping's maximum concurrency (warm payment containers at full speed)
    rate: float  # payments per second while a million drain (customer_waits.drain)


@dataclass(frozen=True)
class Line:
    service: str
    per_million: float
    arithmetic: str


# The calls of one payment, as the code makes them (service.handle_payment, notices, budget.RequestBudget).
TRIGGER_CALLS = ("claim (PutItem)", "intent (UpdateItem)", "PutEvents", "final write (UpdateItem)")
SECOND_TRIGGER_CALLS = ("refused claim (conditional PutItem)",)
WEBHOOK_CALLS = ("event claim (PutItem)", "payment read (GetItem)", "event done (UpdateItem)")


def trigger_seconds(c: CostInputs) -> float:
    """The paying invocation: its gateway requests, its own AWS calls and one budget counter per request."""
    return c.requests_per_payment * c.latency + (len(TRIGGER_CALLS) + c.requests_per_payment) * AWS_CALL_S + HANDLER_S


def lines(c: CostInputs) -> list[Line]:
    gb = c.memory_mb / 1024
    trigger = trigger_seconds(c)
    second = len(SECOND_TRIGGER_CALLS) * AWS_CALL_S + HANDLER_S
    webhook = len(WEBHOOK_CALLS) * AWS_CALL_S + HANDLER_S
    seconds = trigger + second + webhook
    per_item = 1 + c.gsis  # a payment item written once in the table and once in each all-projecting index
    writes = 3 * per_item + 1 + c.requests_per_payment + 2
    reads = 1
    sqs = 2 * 3
    run_s = 1e6 / c.rate
    secret_reads = (c.concurrency + 2 * WEBHOOK_CONTAINERS) * run_s / SECRET_CACHE_S
    m = 1e6
    return [
        Line(
            "Lambda",
            m * (seconds * gb * PRICE_LAMBDA_GB_S + 3 * PRICE_LAMBDA_REQUEST),
            f"3 invocations: paying trigger {trigger:.3f} s ({c.requests_per_payment} x {c.latency:g} s Stripe + "
            f"{len(TRIGGER_CALLS) + c.requests_per_payment} AWS calls x {AWS_CALL_S:g} s incl. "
            f"{c.requests_per_payment} budget counters + {HANDLER_S:g} s), second trigger {second:.3f} s, webhook "
            f"{webhook:.3f} s = {seconds:.3f} s x {gb:g} GB = {seconds * gb:.4f} GB-s x ${PRICE_LAMBDA_GB_S:.10f} "
            f"+ 3 x ${PRICE_LAMBDA_REQUEST * m:.2f}/M requests",
        ),
        Line(
            "DynamoDB",
            m * (writes * PRICE_DDB_WRITE + reads * PRICE_DDB_READ),
            f"{writes} write units x ${PRICE_DDB_WRITE * m:.3f}/M: claim, intent, final write, each 1 + {c.gsis} "
            f"(the payments table's {c.gsis} indexes project all attributes) = {3 * per_item}; the second "
            f"trigger's refused claim 1; the budget's counter {c.requests_per_payment} (one per gateway request); "
            f"the webhook's event log 2 (claim, done); + {reads} read unit x ${PRICE_DDB_READ * m:.3f}/M "
            "(the webhook's GetItem); items under 1 KB",
        ),
        Line(
            "EventBridge",
            m * c.payment_succeeded_majors * PRICE_EVENTS,
            f"{c.payment_succeeded_majors} entry per payment.succeeded major published (event_majors) x "
            f"${PRICE_EVENTS * m:.2f}/M (the triggers' PutEvents are their producers' bill)",
        ),
        Line(
            "SQS",
            m * sqs * PRICE_SQS,
            f"2 trigger messages x 3 requests (EventBridge's SendMessage, the poller's ReceiveMessage and "
            f"DeleteMessage) = {sqs} x ${PRICE_SQS * m:.2f}/M; ChangeMessageVisibility only after a failure (+1 "
            "each); the pollers' empty receives are a fixed cost (below)",
        ),
        Line(
            "KMS",
            secret_reads * PRICE_KMS,
            f"{secret_reads:,.0f} Decrypts, one per secret read (below, the secrets' customer-managed key) x "
            f"${PRICE_KMS * 10_000:.2f}/10k; SQS and DynamoDB reuse their data keys (300 s): fixed, not per payment",
        ),
        Line(
            "Secrets Manager",
            secret_reads * PRICE_SECRETS,
            f"each warm container reads its secrets once per {SECRET_CACHE_S} s: ({c.concurrency} payment "
            f"containers + {WEBHOOK_CONTAINERS} webhook containers x 2 secrets) x {run_s:,.0f} s to drain a million "
            f"at {c.rate:.0f}/s / {SECRET_CACHE_S} s = {secret_reads:,.0f} x ${PRICE_SECRETS * 10_000:.2f}/10k",
        ),
    ]


FIXED_MONTHLY = (
    "Not per payment (a month, whatever the traffic): the reconciler every 5 minutes (8,640 short invocations), the "
    "mappings' pollers' empty long-poll receives on each source queue, SQS's and DynamoDB's data-key requests to "
    "KMS (one per key reuse period), the KMS key ($1) and the two secrets ($0.40 each). Not counted: CloudWatch "
    "Logs ingestion (about 1-2 KB of JSON log lines per invocation at $0.50/GB), X-Ray traces and the embedded "
    "metrics, and Stripe's own fees."
)
