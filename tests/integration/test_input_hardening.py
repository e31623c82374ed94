"""Bodies that cannot be decoded or carry card-shaped text: each is a contract violation with its log line (which
never holds the value) and a metric, never a crash, and nothing is recorded, charged or published."""

from __future__ import annotations

import json
from typing import Any

import pytest
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.support.handler_calls import invoke
from tests.support.integration_aws import Aws
from tests.support.stripe_movements import charges
from tests.support.trigger_events import new_order, payment_event, refund_event

PAN = "4242424242424242"


def _payment(order: str, **data: Any) -> dict[str, Any]:
    event = payment_event(order)
    event["detail"]["data"].update(data)
    return event


def _cases(order: str) -> dict[str, tuple[Any, str, str]]:
    """name -> (body, handler, a fragment that must never reach the logs)"""
    ok = json.dumps(payment_event(order))
    return {
        "nested 100k deep": ("[" * 100_000 + "]" * 100_000, "payment", "[[[[[[[["),
        "5,000-digit integer": (ok.replace('"minorUnits": 4999', '"minorUnits": ' + "7" * 5000), "payment", "7" * 50),
        "duplicate keys": (ok.replace('"orderId": ', '"orderId": "ord-dup-x", "orderId": ', 1), "payment", "ord-dup-x"),
        "NaN": (ok.replace('"minorUnits": 4999', '"minorUnits": NaN'), "payment", "NaN,"),
        "lone surrogate": (ok.replace('"cus-1001"', '"cus-\\ud800"'), "payment", "cus-\\ud800"),
        "trailing newline in the order id": (json.dumps(_payment(order, orderId=order + "\n")), "payment", '\\n"'),
        "card number as order id": (json.dumps(_payment(order, orderId=PAN)), "payment", PAN),
        "card number as correlation id": (
            json.dumps(
                {
                    **payment_event(order),
                    "detail": {
                        **payment_event(order)["detail"],
                        "metadata": {
                            **payment_event(order)["detail"]["metadata"],
                            "correlationId": "4000 0566 5566 5556",
                        },
                    },
                }
            ),
            "payment",
            "4000 0566 5566 5556",
        ),
        "card number in a refund reason": (
            json.dumps(
                {
                    **refund_event(order),
                    "detail": {
                        **refund_event(order)["detail"],
                        "data": {
                            "orderId": order,
                            "reason": f"refund to card {PAN[:4]}-{PAN[4:8]}-{PAN[8:12]}-{PAN[12:]}",
                        },
                    },
                }
            ),
            "refund",
            PAN[4:8] + "-" + PAN[8:12],
        ),
    }


CASES = list(_cases("ord-x"))


@pytest.mark.parametrize("name", CASES)
def test_an_undecodable_or_card_bearing_body_is_a_logged_counted_violation(
    name: str, aws: Aws, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    order = new_order()
    body, which, secret = _cases(order)[name]
    handler = payment_handler if which == "payment" else refund_handler
    capsys.readouterr()
    assert len(invoke(handler, body)) == 1  # refused: redelivered, then the DLQ
    [line] = [r for r in caplog.records if r.getMessage() == "event rejected: schema violation"]
    assert line.violations and line.violation_count >= 1
    logged = caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert secret not in logged
    assert '"ValidationRejected":[1.0]' in capsys.readouterr().out
    assert aws.payment_items(order) == [] and aws.refund_items(order) == []
    assert aws.published(order) == [] and charges(order) == []


def test_a_rejection_line_names_the_event_and_the_order_when_it_can(aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    order = new_order()
    event = payment_event(order)
    event["detail"]["data"]["amount"]["minorUnits"] = 0
    assert len(invoke(payment_handler, event)) == 1
    [line] = [r for r in caplog.records if r.getMessage() == "event rejected: schema violation"]
    assert line.order_id == order and line.event_id == event["detail"]["metadata"]["eventId"]


def test_fifty_thousand_extra_keys_make_one_capped_line(aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    order = new_order()
    event = payment_event(order)
    event["detail"]["data"].update({f"extra{i}": i for i in range(50_000)})
    assert len(invoke(payment_handler, event)) == 1
    [line] = [r for r in caplog.records if r.getMessage() == "event rejected: schema violation"]
    assert len(line.violations) <= 20
    assert line.violation_count >= 1


def test_keys_of_one_record_never_leak_into_the_next_records_lines(aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    good = new_order()
    invoke(payment_handler, payment_event(good), "{not json")
    [line] = [r for r in caplog.records if r.getMessage() == "event rejected: schema violation"]
    assert getattr(line, "order_id", None) != good
