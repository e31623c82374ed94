"""Faults injected below botocore's retry loop, through the clients' ``before-send`` event hooks.

A hook that returns a response (or raises a timeout) replaces the HTTP exchange of one attempt, so botocore's
standard retry mode really runs: throttling backs off and retries, a read timeout is retried, and an error that
outlives ``total_max_attempts`` reaches the handler, which must fail the record so SQS redelivers it. The hook names
use botocore's hyphenated service ids: ``dynamodb`` and ``eventbridge`` (a hook on ``before-send.events.*`` would
silently never fire).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.httpsession import URLLib3Session
from novamart_payments import clients, domain
from novamart_payments.config import get_config
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.support.handler_calls import invoke
from tests.support.reliability_aws import RelAws
from tests.support.simulated_movements import charges, refunds
from tests.support.trigger_events import payment_event, refund_event

pytestmark = pytest.mark.reliability


class _Body:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._payload


def _json_response(request: Any, status: int, body: dict[str, Any], json_type: str) -> AWSResponse:
    headers = {"Content-Type": f"application/x-amz-json-{json_type}", "x-amzn-RequestId": "fault-injected"}
    return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


def throttled(request: Any) -> AWSResponse:
    body = {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "slow down"}
    return _json_response(request, 400, body, "1.0")


def failed_entry(request: Any) -> AWSResponse:
    body = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]}
    return _json_response(request, 200, body, "1.1")


def read_timeout(request: Any) -> AWSResponse:
    raise ReadTimeoutError(endpoint_url=request.url)


def connect_timeout(request: Any) -> AWSResponse:
    raise ConnectTimeoutError(endpoint_url=request.url)


def delivered_then_read_timeout(request: Any) -> AWSResponse:
    """The request reaches the service and takes effect, but the answer is lost: the ambiguous failure."""
    URLLib3Session().send(request)
    raise ReadTimeoutError(endpoint_url=request.url)


class Faults:
    """Fault plans per ``service.Operation``: the n-th attempt (1-based, counted per plan) gets a fault."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self._plans: dict[str, tuple[Callable[[Any], AWSResponse], set[int] | None]] = {}

    def plan(self, operation: str, fault: Callable[[Any], AWSResponse], attempts: set[int] | None = None) -> None:
        """``attempts`` None means every attempt from now on."""
        self._plans[operation] = (fault, attempts)
        self.attempts[operation] = 0

    def clear(self) -> None:
        self._plans.clear()

    def hook(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".")
        key = f"{service}.{operation}"
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if key not in self._plans:
            return None
        fault, which = self._plans[key]
        if which is None or self.attempts[key] in which:
            return fault(request)
        return None


@pytest.fixture
def faults(rel_aws: RelAws) -> Iterator[Faults]:
    # Fresh clients: each has its own retry quota, so one test's exhausted retries cannot starve the next.
    clients.reset()
    f = Faults()
    clients.dynamodb().meta.events.register("before-send.dynamodb", f.hook)
    clients.events().meta.events.register("before-send.eventbridge", f.hook)
    yield f
    clients.reset()


def new_order() -> str:
    return f"rel-fault-{uuid.uuid4().hex[:12]}"


def outcome_ids(rel_aws: RelAws, order: str) -> list[str]:
    return [e["detail"]["metadata"]["eventId"] for e in rel_aws.drain() if e["detail"]["data"]["orderId"] == order]


def payment_item(rel_aws: RelAws, order: str) -> dict[str, Any]:
    [item], _ = rel_aws.get_items([domain.payment_id_for(order)], [])
    return dict(item)


def max_attempts() -> int:
    return int(clients.dynamodb().meta.config.retries["total_max_attempts"])


def test_clients_use_standard_retries_and_bounded_timeouts(rel_aws: RelAws) -> None:
    cfg = get_config()
    for client in (clients.dynamodb(), clients.events()):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": cfg.aws_max_attempts}
        assert client.meta.config.connect_timeout == cfg.aws_call_timeout_seconds
        assert client.meta.config.read_timeout == cfg.aws_call_timeout_seconds


def test_throttled_claim_is_retried_inside_botocore(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    faults.plan("dynamodb.PutItem", throttled, {1})
    assert invoke(payment_handler, payment_event(order)) == []
    assert faults.attempts["dynamodb.PutItem"] == 2  # the throttled attempt and botocore's retry
    assert len(charges(order)) == 1
    assert len(set(outcome_ids(rel_aws, order))) == 1


def test_throttling_beyond_the_retry_budget_fails_the_record_and_redelivery_charges_once(
    rel_aws: RelAws, faults: Faults
) -> None:
    """The final write is throttled on every attempt after the charge: the record fails; redelivery finishes it.
    (The first UpdateItem stores the intent before the confirm; the final write is the second.)"""
    order = new_order()
    event = payment_event(order)
    faults.plan("dynamodb.UpdateItem", throttled, set(range(2, 2 + max_attempts())))
    assert len(invoke(payment_handler, event)) == 1
    assert faults.attempts["dynamodb.UpdateItem"] == 1 + max_attempts()
    assert len(charges(order)) == 1
    assert payment_item(rel_aws, order)["status"]["S"] == "PENDING"
    faults.clear()
    assert invoke(payment_handler, event) == []
    assert len(charges(order)) == 1
    assert payment_item(rel_aws, order)["status"]["S"] == "SUCCEEDED"
    assert len(set(outcome_ids(rel_aws, order))) == 1


def test_putevents_failed_entry_fails_the_record_without_botocore_retrying(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    event = payment_event(order)
    faults.plan("eventbridge.PutEvents", failed_entry)
    assert len(invoke(payment_handler, event)) == 1
    assert faults.attempts["eventbridge.PutEvents"] == 1  # a 200 is not retried by botocore: the handler must look
    assert outcome_ids(rel_aws, order) == []
    assert payment_item(rel_aws, order)["status"]["S"] == "PENDING"  # not final: its event never went out
    faults.clear()
    assert invoke(payment_handler, event) == []
    assert len(set(outcome_ids(rel_aws, order))) == 1
    assert len(charges(order)) == 1


def test_lost_putevents_answer_is_retried_and_republishes_the_same_event_id(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    faults.plan("eventbridge.PutEvents", delivered_then_read_timeout, {1})
    assert invoke(payment_handler, payment_event(order)) == []
    assert faults.attempts["eventbridge.PutEvents"] == 2
    ids = outcome_ids(rel_aws, order)
    assert len(ids) == 2 and len(set(ids)) == 1  # two copies on the bus, one event id: consumers drop the second


def test_connect_timeouts_on_every_attempt_fail_the_record_before_any_charge(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    event = payment_event(order)
    faults.plan("dynamodb.PutItem", connect_timeout)
    assert len(invoke(payment_handler, event)) == 1
    assert faults.attempts["dynamodb.PutItem"] == max_attempts()
    assert charges(order) == []
    faults.clear()
    assert invoke(payment_handler, event) == []
    assert len(charges(order)) == 1


def test_lost_answer_of_the_final_write_charges_once(rel_aws: RelAws, faults: Faults) -> None:
    """UpdateItem took effect but its answer was lost; botocore's retry then fails the condition (no longer
    PENDING), which the service must read as 'already finished', not as a reason to charge or publish again."""
    order = new_order()
    faults.plan("dynamodb.UpdateItem", delivered_then_read_timeout, {2})  # 1: the intent is stored
    assert invoke(payment_handler, payment_event(order)) == []
    assert faults.attempts["dynamodb.UpdateItem"] == 3
    assert len(charges(order)) == 1
    assert payment_item(rel_aws, order)["status"]["S"] == "SUCCEEDED"
    assert len(set(outcome_ids(rel_aws, order))) == 1


def test_lost_answer_of_the_claim_still_charges_exactly_once(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    faults.plan("dynamodb.PutItem", delivered_then_read_timeout, {1})
    assert invoke(payment_handler, payment_event(order)) == []
    assert faults.attempts["dynamodb.PutItem"] == 2
    assert len(charges(order)) == 1
    assert len(set(outcome_ids(rel_aws, order))) == 1


def test_lost_answer_of_the_refund_reservation_refunds_once(rel_aws: RelAws, faults: Faults) -> None:
    order = new_order()
    assert invoke(payment_handler, payment_event(order, minor_units=10_000)) == []
    faults.plan("dynamodb.TransactWriteItems", delivered_then_read_timeout, {1})
    assert invoke(refund_handler, refund_event(order, 4_000, request_id="r-1")) == []
    assert faults.attempts["dynamodb.TransactWriteItems"] >= 2
    assert refunds(order) == [4_000]
    assert payment_item(rel_aws, order)["refundedAmount"]["N"] == "4000"
    refund_events = [
        e for e in rel_aws.drain() if e["detail"]["data"]["orderId"] == order and "refundId" in e["detail"]["data"]
    ]
    assert {e["detail-type"] for e in refund_events} == {"refund.succeeded"}
    assert len({e["detail"]["metadata"]["eventId"] for e in refund_events}) == 1


def test_read_timeouts_on_every_putevents_attempt_leave_the_outcome_to_redelivery(
    rel_aws: RelAws, faults: Faults
) -> None:
    order = new_order()
    event = payment_event(order)
    faults.plan("eventbridge.PutEvents", read_timeout)
    assert len(invoke(payment_handler, event)) == 1
    assert faults.attempts["eventbridge.PutEvents"] == max_attempts()
    faults.clear()
    assert invoke(payment_handler, event) == []
    assert len(set(outcome_ids(rel_aws, order))) == 1
    assert len(charges(order)) == 1
