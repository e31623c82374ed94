"""State shared by the behaviour suite's steps: the deployed stack (one per session) and one order per scenario.

Steps act only through public interfaces: events go onto the bus with ``events.put_events``, outcomes are read
from the tables (the ``orderId-index`` GSI) and from the audit queue (every published event, validated against
its schema). The money that really moved is counted at the local Stripe in every mode. How often a message was
delivered comes from the local Lambda service's journal where the handlers run in this process (moto), and from
the emulator where it runs the functions (MiniStack, LocalStack): the functions' own log lines in CloudWatch Logs
(each delivery of a record logs one line naming its ``message_id`` under one ``function_request_id``) and the
dead-letter queues' contents.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from novamart_payments.timestamps import iso

from tools.devstack.audit import AuditLog, PublishedEvent, peek_queue
from tools.devstack.aws import client, wait_until
from tools.devstack.events import payment_data, put_events, refund_data, trigger_event
from tools.devstack.lambda_service import LocalLambdaService
from tools.devstack.stack import FunctionConfig, StackInfo
from tools.devstack.tables import records_for_order
from tools.devstack.urls_and_schedules import invoke_once

SETTLE_TIMEOUT = 60.0
RECONCILER = "novamart_payments.handlers.reconcile.handler"
PAYMENT = "novamart_payments.handlers.payment.handler"
WEBHOOKS = "novamart_payments.handlers.webhooks.handler"


@dataclass
class Order:
    """One scenario's order: unique ids, so scenarios sharing the deployed stack never see each other."""

    order_id: str = field(default_factory=lambda: f"ord-{uuid.uuid4()}")
    customer_id: str = field(default_factory=lambda: f"cus-{uuid.uuid4().hex[:12]}")
    correlation_id: str = field(default_factory=lambda: f"corr-{uuid.uuid4()}")
    minor_units: int = 1000
    currency: str = "USD"
    token: str = "pm_card_visa"
    sent: list[dict[str, Any]] = field(default_factory=list)  # every event put on the bus, copies included
    expected_messages: int = 0  # SQS messages the puts produced (one per consumed event)

    def last(self, detail_type: str) -> dict[str, Any]:
        return next(e for e in reversed(self.sent) if e["detail-type"] == detail_type)

    def sent_by_id(self) -> dict[str, dict[str, Any]]:
        return {e["detail"]["metadata"]["eventId"]: e for e in self.sent}


class World:
    def __init__(
        self,
        endpoint_url: str,
        region: str,
        stack: StackInfo,
        service: LocalLambdaService | None,
        audit: AuditLog,
        gateway: Any = None,
        *,
        webhook_url: str = "",
    ) -> None:
        self.webhook_url = webhook_url  # where Stripe (and the webhook scenarios) post events
        self.gateway = gateway  # tests.support.gateway.StripeStack: the local Stripe and its fault proxy
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack = stack
        self.service = service
        self.audit = audit
        self.events = client("events", endpoint_url, region)
        self.ddb = client("dynamodb", endpoint_url, region)
        self.sqs = client("sqs", endpoint_url, region)
        assert stack.event_bus and stack.payment_table and stack.refund_table, f"stack incomplete: {stack}"
        self.bus: str = stack.event_bus

    @property
    def in_process(self) -> bool:
        return self.service is not None

    # ---- acting -----------------------------------------------------------------------------------------

    def payment_trigger(
        self, order: Order, detail_type: str = "order.ready_for_payment", **overrides: Any
    ) -> dict[str, Any]:
        data = payment_data(
            order.order_id,
            overrides.get("minor_units", order.minor_units),
            overrides.get("currency", order.currency),
            order.token,
            order.customer_id,
        )
        return trigger_event(detail_type, data, correlation_id=order.correlation_id)

    def refund_trigger(
        self, order: Order, detail_type: str, amount: tuple[int, str] | None = None, request_id: str | None = None
    ) -> dict[str, Any]:
        reason = "Customer cancelled the order" if detail_type == "order.cancelled" else "Out of stock"
        return trigger_event(
            detail_type,
            refund_data(order.order_id, reason, amount),
            correlation_id=order.correlation_id,
            request_id=request_id,
        )

    def put(self, order: Order, event: dict[str, Any], copies: int = 1) -> None:
        put_events(self.events, self.bus, [event] * copies)
        order.sent.extend([event] * copies)
        order.expected_messages += copies

    @property
    def settle_timeout(self) -> float:
        """How long handling one trigger may take: with the stand-in, a minute; where the emulator runs the
        functions, a failed message returns only after its queue's visibility timeout, up to maxReceiveCount times,
        and moves to the DLQ one visibility timeout after its last delivery."""
        if self.in_process:
            return SETTLE_TIMEOUT
        return SETTLE_TIMEOUT + max(
            ((m.queue.max_receive_count or 1) + 1) * m.queue.visibility_timeout for m in self.stack.mappings
        )

    def settle(self, order: Order, timeout: float | None = None) -> None:
        """Wait until every message the order's puts produced was handled (deleted or dead-lettered)."""
        timeout = self.settle_timeout if timeout is None else timeout
        if self.service is not None:
            self.service.wait_settled(order.order_id, order.expected_messages, timeout)
        else:  # LocalStack: Lambda runs there; wait until the function queues are drained
            urls = [m.queue.url for m in self.stack.mappings]
            wait_until(lambda: self._queues_idle(urls), timeout, f"queues idle for order {order.order_id}", 0.5)
        self.audit.poll()

    def _queues_idle(self, urls: list[str]) -> bool:
        for url in urls:
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]):
                return False
        return True

    def _function(self, handler: str) -> FunctionConfig:
        return next(f for f in self.stack.functions.values() if f.handler == handler)

    def gateway_retries(self) -> int:
        """The payment function's Stripe SDK retries as deployed (unset: the code's default)."""
        from novamart_payments.config import Config

        env = self._function(PAYMENT).environment
        return int(env.get("STRIPE_MAX_NETWORK_RETRIES", Config.__dataclass_fields__["gateway_max_retries"].default))

    def reconcile(self) -> Any:
        """One reconciliation pass now, as the schedule would run it (in-process with the stand-in)."""
        fn = self._function(RECONCILER)
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        report = invoke_once(self.endpoint_url, self.region, fn, event, in_process=self.in_process)
        self.audit.poll()
        return report

    def reconcile_pending_after(self) -> int:
        return int(self._function(RECONCILER).environment["RECONCILE_PENDING_AFTER_SECONDS"])

    def unfinished_older_than(self, status: str, seconds: float) -> list[dict[str, Any]]:
        """Payments in ``status`` opened more than ``seconds`` ago, from the sparse index reconciliation reads."""
        before = iso(datetime.now(UTC) - timedelta(seconds=seconds))
        out = self.ddb.query(
            TableName=self.stack.payment_table or "",
            IndexName="unfinished",
            KeyConditionExpression="openStatus = :s AND openSince < :before",
            ExpressionAttributeValues={":s": {"S": status}, ":before": {"S": before}},
        )
        return list(out.get("Items", []))

    def webhook_event_handled(self, event_id: str) -> bool:
        """Whether the webhook function claimed the event (Powertools keys the claim by a hash of its id)."""
        from novamart_payments.handlers.webhooks import EventLog

        from tests.support.webhooks import was_handled

        table = self._function(WEBHOOKS).environment["WEBHOOK_EVENT_TABLE_NAME"]
        return was_handled(EventLog(table, self.ddb), event_id)

    # ---- observing --------------------------------------------------------------------------------------

    def published(self, order: Order, detail_type: str | None = None) -> list[PublishedEvent]:
        self.audit.poll()
        return self.audit.for_order(order.order_id, detail_type)

    def distinct(self, order: Order, detail_type: str) -> list[PublishedEvent]:
        """Published events of the type, one per metadata.eventId (consumers drop duplicates by id)."""
        seen: dict[str, PublishedEvent] = {}
        for event in self.published(order, detail_type):
            seen.setdefault(str(event.metadata.get("eventId")), event)
        return list(seen.values())

    def wait_published(self, order: Order, detail_type: str, timeout: float = SETTLE_TIMEOUT) -> None:
        self.audit.wait_for_order(order.order_id, [detail_type], timeout)

    def payments(self, order: Order) -> list[dict[str, Any]]:
        return records_for_order(self.ddb, self.stack.payment_table or "", order.order_id)

    def refunds(self, order: Order) -> list[dict[str, Any]]:
        return records_for_order(self.ddb, self.stack.refund_table or "", order.order_id)

    def ledger(self, order: Order) -> tuple[list[tuple[int, str]], list[tuple[int, str]]] | None:
        """(charges, refunds) as (minor units, currency) the gateway made for the order, counted per order at the
        local Stripe (never by idempotency key); None when no local Stripe is attached."""
        if self.gateway is None:
            return None
        stripe = self.gateway.stripe
        charges = [(int(i.amount), str(i.currency).upper()) for i in stripe.charges(order.order_id)]
        refunds = [(int(r.amount), str(r.currency).upper()) for r in stripe.refunds(order.order_id)]
        return charges, refunds

    def token_for(self, token: str) -> str:
        """A Stripe test card number becomes a PaymentMethod on the local Stripe; a token is used as it is."""
        if token.isdigit() and self.gateway is not None:
            return str(self.gateway.stripe.payment_method(token))
        return token

    def deliveries(self, match: Any) -> dict[str, int]:
        """Deliveries per SQS message id, read from the functions' logs in the emulator: the invocations
        (``function_request_id``) that logged a line for the message, for each message whose lines satisfy
        ``match`` (a predicate over one parsed log line)."""
        logs = client("logs", self.endpoint_url, self.region)
        requests: dict[str, set[str]] = {}
        wanted: set[str] = set()
        for fn in {m.function.name for m in self.stack.mappings}:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{fn}")
            for event in (e for page in pages for e in page["events"]):
                try:
                    line = json.loads(event["message"])
                except ValueError:
                    continue  # START / END / REPORT and other plain lines
                if not isinstance(line, dict) or not line.get("message_id"):
                    continue
                requests.setdefault(line["message_id"], set()).add(str(line.get("function_request_id")))
                if match(line):
                    wanted.add(line["message_id"])
        return {message_id: len(requests[message_id]) for message_id in wanted}

    def order_deliveries(self, order: Order) -> Counter[int]:
        """How many of the order's messages were delivered how often (from the emulator's logs)."""
        return Counter(self.deliveries(lambda line: line.get("order_id") == order.order_id).values())

    def dead_letter_messages(self, order: Order) -> list[dict[str, Any]]:
        """The order's messages in the functions' DLQs, as SQS returns them (``MessageId``, attributes), left
        in place."""
        found = []
        for dlq in sorted({m.queue.dlq_url for m in self.stack.mappings if m.queue.dlq_url}):
            got = self.sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
            ).get("Messages", [])
            found += [m for m in got if order.order_id in m["Body"]]
        return found

    def dead_letters(self, order: Order, *, remove: bool = False) -> list[dict[str, Any]]:
        """Messages about the order in the functions' DLQs (others are left where they are)."""
        found = []
        for dlq in sorted({m.queue.dlq_url for m in self.stack.mappings if m.queue.dlq_url}):
            found += peek_queue(self.sqs, dlq, lambda body: order.order_id in body, remove=remove)
        return found


def charged_once_problems(world: World, order: Order) -> list[str]:
    """Why the order was not charged exactly once; empty when it was.

    The check the duplicate scenarios use, and the one the harness self-test proves goes red for a handler that
    charges on every delivery: one payment.succeeded outcome (by eventId), one transaction id, one payments item,
    no payment.failed, and - when the gateway runs in this process - one charge in its ledger.
    """
    problems = []
    succeeded = world.published(order, "payment.succeeded")
    outcome_ids = {e.metadata.get("eventId") for e in succeeded}
    transactions = {e.data.get("transactionId") for e in succeeded}
    if len(outcome_ids) != 1:
        problems.append(f"{len(outcome_ids)} distinct payment.succeeded events (want 1)")
    if len(transactions) != 1:
        problems.append(f"{len(transactions)} transaction ids in payment.succeeded events (want 1)")
    if world.published(order, "payment.failed"):
        problems.append("a payment.failed event was published")
    items = world.payments(order)
    if len(items) != 1 or items[0].get("status") != "SUCCEEDED":
        problems.append(f"payments table holds {[i.get('status') for i in items]} for the order (want [SUCCEEDED])")
    ledger = world.ledger(order)
    if ledger is not None and len(ledger[0]) != 1:
        problems.append(f"the gateway charged the order {len(ledger[0])} times (want 1)")
    return problems


def eventually(step: Callable[..., None]) -> Callable[..., None]:
    """Retry a Then step's assertion until it holds or the deadline passes.

    With the local Lambda service the trigger steps already waited until every delivery was handled, so the
    state is final and the assertion runs once (deadline 0). Against LocalStack, EventBridge delivery and Lambda
    run asynchronously, so positive expectations get the settle deadline.
    """

    @functools.wraps(step)
    def wrapper(**kwargs: Any) -> None:
        world: World = kwargs["world"]
        deadline = time.monotonic() + (0 if world.in_process else SETTLE_TIMEOUT)
        while True:
            try:
                return step(**kwargs)
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    return wrapper
