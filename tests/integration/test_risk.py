"""The risk check before the charge (issue 20), against moto and localstripe behind the counting fault proxy.

A blocked order makes no gateway request at all (the proxy's total does not move), publishes one payment.failed
with the risk code (and the 1.x edition beside it, with the stand-in code), and no redelivery or second trigger
charges it. The counters count each order once: under redelivery after a crash, and under 16 concurrent orders of
one customer. Rules are data in SSM: a change is in force within the cache TTL; an invalid document is refused
and the last good rules stay in force.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from novamart_payments import domain
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.risk.rules import token_hash

from tests.integration.test_later_outcomes import kinds
from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.service_aws import REGION, reset_process_state
from tests.support.stripe_movements import card, charges, stripe_stack
from tests.support.trigger_events import new_order, payment_event

RULES_PARAMETER = "/it/payments/risk-rules"
RISK_TABLE = "it-risk"
VELOCITY_LIMIT = 10

RULES: dict[str, Any] = {
    "version": 1,
    "blockList": {"customers": ["cus-blocked-1"], "tokenSha256": [token_hash("pm_card_blocked_token_it")]},
    "amountLimits": {"USD": 500_000, "JPY": 100_000},
    "velocity": [{"name": "orders-per-hour", "windowSeconds": 3600, "maxOrders": VELOCITY_LIMIT}],
    "maxCustomersPerTokenPerDay": 50,
}


@pytest.fixture(scope="module")
def risk_aws(aws: Aws) -> Iterator[Aws]:
    ddb = aws.dynamodb
    if RISK_TABLE not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName=RISK_TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.update_time_to_live(
            TableName=RISK_TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
    yield aws


def _ssm(aws: Aws) -> Any:
    return boto3.client("ssm", endpoint_url=aws.endpoint, region_name=REGION)


def put_rules(aws: Aws, doc: dict[str, Any] | str) -> None:
    value = doc if isinstance(doc, str) else json.dumps(doc)
    _ssm(aws).put_parameter(Name=RULES_PARAMETER, Value=value, Type="String", Overwrite=True)


@pytest.fixture
def risky(risk_aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """The handlers with the risk check on (rules in SSM, counters in DynamoDB); ``ttl(n)`` sets the cache TTL."""
    put_rules(risk_aws, RULES)

    def configure(max_age: int) -> None:
        monkeypatch.setenv("RISK_RULES_PARAMETER_NAME", RULES_PARAMETER)
        monkeypatch.setenv("RISK_TABLE_NAME", RISK_TABLE)
        monkeypatch.setenv("RISK_RULES_MAX_AGE_SECONDS", str(max_age))
        reset_process_state()  # a new container: the service, its rules cache and its SSM provider are rebuilt

    configure(60)
    yield configure
    monkeypatch.undo()
    reset_process_state()


def requests(order: str) -> list[tuple[str, str]]:
    return stripe_stack().faults.requests_for(order)


def total_requests() -> int:
    return stripe_stack().faults.total()


def failed_code(aws: Aws, order: str, major: str = "2") -> list[str]:
    return [
        e["detail"]["data"]["code"]
        for e in aws.published(order, all_majors=True)
        if e["detail-type"] == "payment.failed" and e["detail"]["metadata"]["schemaVersion"].startswith(f"{major}.")
    ]


def counted_orders(aws: Aws, customer: str) -> list[str]:
    out = aws.dynamodb.get_item(TableName=RISK_TABLE, Key={"pk": {"S": f"cust#{customer}"}}, ConsistentRead=True)
    return sorted(name[2:] for name in out.get("Item", {}) if name.startswith("o#"))


def customer() -> str:
    return f"cus-{new_order()[4:20]}"


# --- a blocked order --------------------------------------------------------------------------------------------


def test_a_blocked_order_makes_no_gateway_request_and_publishes_one_fraud_failure(risky: Any, aws: Aws) -> None:
    order = new_order()
    reserved = payment_event(order, customer_id="cus-blocked-1", detail_type="inventory.reserved")
    ready = payment_event(order, customer_id="cus-blocked-1", detail_type="order.ready_for_payment")
    before = total_requests()
    assert invoke(payment_handler, reserved) == []
    assert invoke(payment_handler, ready) == []  # the second trigger
    assert invoke(payment_handler, reserved) == []  # a redelivery
    assert total_requests() == before and requests(order) == []
    assert kinds(aws, order) == ["payment.failed"] and charges(order) == []
    assert failed_code(aws, order) == ["fraud_suspected"]
    # The old major's consumers keep receiving their edition, with the code their schema knows.
    assert failed_code(aws, order, major="1") == ["card_declined"]
    [item] = aws.payment_items(order)
    assert item["risk"]["M"]["rule"]["S"] == "blocklist.customer" and item["failureCode"]["S"] == "fraud_suspected"


def test_a_blocked_token_and_an_amount_over_the_limit_are_blocked_before_the_gateway(risky: Any, aws: Aws) -> None:
    by_token, too_big = new_order(), new_order()
    before = total_requests()
    assert invoke(payment_handler, payment_event(by_token, token="pm_card_blocked_token_it")) == []
    assert invoke(payment_handler, payment_event(too_big, 100_001, "JPY", customer_id=customer())) == []
    assert total_requests() == before
    assert failed_code(aws, by_token) == ["fraud_suspected"]
    assert failed_code(aws, too_big) == ["risk_limit_exceeded"]
    assert "1000.01" not in aws.published(too_big)[0]["detail"]["data"]["reason"]  # JPY has no minor digits
    assert "100001 JPY" in aws.published(too_big)[0]["detail"]["data"]["reason"]


def test_an_allowed_order_is_charged_once_with_its_decision_stored(risky: Any, aws: Aws) -> None:
    order = new_order()
    event = payment_event(order, customer_id=customer())
    assert invoke(payment_handler, event) == [] and invoke(payment_handler, event) == []
    assert charges(order) == [4999] and kinds(aws, order) == ["payment.succeeded"]
    [item] = aws.payment_items(order)
    assert item["risk"]["M"]["verdict"]["S"] == "allow"


# --- counted once per order ----------------------------------------------------------------------------------


def test_a_redelivery_after_a_crash_before_the_decision_was_stored_counts_nothing_twice(
    risky: Any, aws: Aws, svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = customer()
    order = new_order()
    event = payment_event(order, customer_id=who)
    real = type(svc.repository).record_risk_decision
    crashes = [1]

    def crash_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        if crashes:
            crashes.pop()
            raise RuntimeError("injected: the function died after counting, before storing the decision")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(svc.repository), "record_risk_decision", crash_once)
    assert len(invoke(payment_handler, event)) == 1  # counted, not decided: redelivered
    assert requests(order) == []  # nothing was asked of the gateway before the decision
    assert invoke(payment_handler, event) == []
    assert invoke(payment_handler, payment_event(order, customer_id=who, detail_type="inventory.reserved")) == []
    assert counted_orders(aws, who) == [order]
    assert charges(order) == [4999]


def test_sixteen_concurrent_orders_of_one_customer_are_counted_exactly(risky: Any, aws: Aws) -> None:
    who = customer()
    orders = [new_order() for _ in range(16)]
    events = [payment_event(o, 1000 + i, customer_id=who) for i, o in enumerate(orders)]
    start = threading.Barrier(16)
    failures: list[list[str]] = []

    def deliver(event: dict[str, Any]) -> None:
        start.wait()
        failures.append(invoke(payment_handler, event))

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == [[]] * 16
    for event in events:  # every order redelivered once: nothing counted twice, nothing decided anew
        assert invoke(payment_handler, event) == []
    assert counted_orders(aws, who) == sorted(orders)
    outcomes = {o: kinds(aws, o) for o in orders}
    succeeded = [o for o in orders if outcomes[o] == ["payment.succeeded"]]
    blocked = [o for o in orders if failed_code(aws, o) == ["risk_limit_exceeded"]]
    assert len(succeeded) == VELOCITY_LIMIT and len(blocked) == 16 - VELOCITY_LIMIT
    assert all(requests(o) == [] and charges(o) == [] for o in blocked)


# --- rules as data ---------------------------------------------------------------------------------------------


def _until(deadline_seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_rules_change_is_in_force_within_the_cache_ttl_without_a_deploy(risky: Any, aws: Aws) -> None:
    risky(2)  # seconds
    who = customer()
    first = new_order()
    assert invoke(payment_handler, payment_event(first, customer_id=who)) == []  # reads and caches the rules
    assert kinds(aws, first) == ["payment.succeeded"]
    put_rules(aws, {**RULES, "blockList": {"customers": ["cus-blocked-1", who]}})
    started = time.monotonic()

    def blocked_now() -> bool:
        order = new_order()
        assert invoke(payment_handler, payment_event(order, customer_id=who)) == []
        return failed_code(aws, order) == ["fraud_suspected"]

    assert _until(10, blocked_now)
    assert time.monotonic() - started <= 2 + 1.5  # the TTL, plus one delivery's time


def test_an_invalid_rules_document_is_refused_and_the_last_good_rules_stay(
    risky: Any, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    risky(0)  # every read goes to SSM
    warm = new_order()
    assert invoke(payment_handler, payment_event(warm, customer_id=customer())) == []  # good rules read
    put_rules(aws, {"version": 1, "amountLimits": {"USD": -5}})
    order = new_order()
    assert invoke(payment_handler, payment_event(order, customer_id="cus-blocked-1")) == []
    assert failed_code(aws, order) == ["fraud_suspected"]  # the last good block list
    [refused] = [r for r in caplog.records if r.getMessage().startswith("risk rules document refused")]
    assert refused.levelname == "ERROR" and "the last good rules stay in force" in refused.getMessage()
    assert "/amountLimits/USD" in str(refused.__dict__.get("why"))


def test_without_any_valid_rules_an_order_waits_and_is_never_charged_unchecked(risky: Any, aws: Aws) -> None:
    put_rules(aws, "{not json")
    risky(0)  # a fresh container: no last good rules
    order = new_order()
    assert len(invoke(payment_handler, payment_event(order, customer_id=customer()))) == 1
    assert requests(order) == [] and aws.published(order) == []
    [item] = aws.payment_items(order)
    assert item["status"]["S"] == "PENDING" and "risk" not in item
    assert domain.payment_id_for(order) == item["paymentId"]["S"]


def test_the_decision_is_stored_once_and_a_later_one_loses_to_it(risky: Any, aws: Aws, svc: Any) -> None:
    from novamart_payments.failure_codes import PaymentFailureCode
    from novamart_payments.risk import ALLOW, RiskDecision, Verdict

    order = new_order()
    trigger_event = payment_event(order, customer_id=customer())
    from novamart_payments.envelope import payment_trigger

    trigger = payment_trigger(trigger_event)
    payment_id = domain.payment_id_for(order)
    assert svc.repository.claim_payment(payment_id, trigger, svc.now()).won
    block = RiskDecision(Verdict.BLOCK, "scorer", PaymentFailureCode.FRAUD_SUSPECTED, "Blocked.", 97.0)
    first = svc.repository.record_risk_decision(payment_id, block, svc.now())
    later = svc.repository.record_risk_decision(payment_id, ALLOW, svc.now())
    assert first.won and not later.won
    assert later.current is not None and later.current.risk == block
    assert svc.repository.get_payment(payment_id).risk == block


def test_a_payment_the_gateway_declines_after_the_check_fits_the_records_call_cap(risky: Any, aws: Aws) -> None:
    """The longest payment path (claim, two counters, the decision, the intent, the re-read before a decline is
    published, PutEvents, the final write) stays within RECORD_MAX_AWS_CALLS: it is not failed at the cap."""
    order = new_order()
    assert invoke(payment_handler, payment_event(order, token=card("declined"), customer_id=customer())) == []
    assert failed_code(aws, order) == ["card_declined"] and charges(order) == []
