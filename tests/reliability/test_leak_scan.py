"""Leak scan over everything the reliability run produced (this file runs last in its suite:
tests/support/run_order.py says so by name).

No log line, table item or published event may contain a Luhn-valid 13-19 digit number or a payment token. The run
put tokens into every trigger and smuggled card numbers into the load test's poison messages, so the scan has
something to find if any path echoed its input.
"""

from __future__ import annotations

import uuid

import pytest
from novamart_payments.handlers.payment import handler as payment_handler

from tests.reliability.leaks import as_texts, find_leaks, luhn_valid
from tests.support.handler_calls import invoke
from tests.support.log_capture import LogCapture
from tests.support.reliability_aws import PAYMENTS, REFUNDS, RelAws
from tests.support.reliability_run import REPORT
from tests.support.trigger_events import payment_event

pytestmark = pytest.mark.reliability


def test_detector_finds_card_numbers_and_tokens_but_not_identifiers() -> None:
    assert luhn_valid("4242424242424242") and not luhn_valid("4242424242424241")
    planted = [
        '{"message": "card 4242424242424242"}',
        '{"pan": "4000 0566 5566 5556"}',
        '{"pan": "5555-5555-5555-4444"}',
        '{"token": "pm_card_visa"}',
        "tok_visa in a message",
    ]
    assert len(find_leaks(planted)) == len(planted)
    innocent = [
        str(uuid.UUID("42424242-4242-4242-4242-424242424242")),
        "ch_sim_4242424242424242abcdef01",
        "4242424242424241",  # fails Luhn
        "order rel-4242424242424242x",
        '{"minorUnits": 99999999999}',
        "npm_install",
    ]
    assert find_leaks(innocent) == []


def test_invalid_event_with_card_number_leaves_no_trace(rel_aws: RelAws, service_logs: LogCapture) -> None:
    event = payment_event(f"rel-leak-{uuid.uuid4().hex[:12]}", token="tok_visa")
    event["detail"]["data"]["cardNumber"] = "4000 0566 5566 5556"
    event["detail"]["data"]["4242424242424242"] = "pm_card_visa"  # a card number as a key, a token as a value
    start = len(service_logs.lines)
    assert len(invoke(payment_handler, event)) == 1
    lines = service_logs.lines[start:]
    assert any("schema violation" in line for line in lines), "the rejection must be logged (and was captured)"
    assert find_leaks(lines) == []


def test_no_log_line_item_or_event_of_the_whole_run_leaks(rel_aws: RelAws, service_logs: LogCapture) -> None:
    items = rel_aws.scan_all(PAYMENTS) + rel_aws.scan_all(REFUNDS)
    rel_aws.drain()
    events = rel_aws.all_editions  # every major's edition leaves the service
    lines = service_logs.lines
    assert any('"event processed"' in line for line in lines), "the capture must see the handlers' JSON lines"
    assert items and events
    leaks = {
        "log lines": find_leaks(lines),
        "table items": find_leaks(as_texts(items)),
        "published events": find_leaks(as_texts(events)),
    }
    REPORT["leak scan"] = f"{len(lines)} log lines, {len(items)} table items, {len(events)} published events scanned"
    assert not any(leaks.values()), {k: v[:5] for k, v in leaks.items()}
