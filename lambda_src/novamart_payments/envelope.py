"""From an SQS record to a validated EventBridge event and a typed trigger.

The body of each SQS message is the EventBridge event as the rule delivered it. Parsing and schema validation
happen before anything else, so an event that breaks its contract has no side effect at all.

Every way a body can fail to decode is a contract violation (with its log line and metric), never a crash:
nesting too deep for the parser (RecursionError), an integer longer than
``MAX_INT_DIGITS`` (it would raise ValueError past 4,300 digits, and no amount needs more than 19), ``NaN`` and
``Infinity`` (not JSON), an object with the same key twice (which one counts would be the parser's choice, so
both are refused), and lone surrogates (text that cannot be encoded as UTF-8 when logged or stored). A digit
run shaped like a card number (13-19 digits in a run or in a card's groups, passing Luhn) is refused in every
string of the event, ids and free text alike, so a card number pasted into a reason is never stored or logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from novamart_payments.contracts import ContractViolation, Violation, validate_event
from novamart_payments.domain import Money, PaymentTrigger, RefundTrigger, TriggerMeta
from novamart_payments.risk import RiskContext

PAYMENT_TRIGGERS = frozenset({"inventory.reserved", "order.ready_for_payment"})
REFUND_TRIGGERS = frozenset({"inventory.reservation_failed", "order.cancelled"})


MAX_DEPTH = 32
MAX_INT_DIGITS = 19
# A card number is 13-19 digits in one run, or printed in its groups (4-4-4-4[-3], Amex 4-6-5) with one kind of
# separator. Looser rules would match ids: a UUID with digit-only groups reads as 16+ digits across its dashes.
_CARD_LIKE = re.compile(
    r"(?<!\d)\d{13,19}(?!\d)"
    r"|(?<![\w-])\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?(?![\w-])"
    r"|(?<![\w-])\d{4}([ -])\d{6}\2\d{5}(?![\w-])"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Undecodable(ValueError):
    """The body is JSON text the service refuses to decode (the reason never quotes the body)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Undecodable("an object has the same key twice")
    return out


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Undecodable(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> Any:
    raise _Undecodable(f"{name} is not a JSON number")


def parse_body(body: str) -> dict[str, Any]:
    """Decode the message body; anything but a JSON object, or a body refused above, is a violation at the root."""
    try:
        event = json.loads(body, object_pairs_hook=_unique_keys, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ContractViolation((Violation("", f"message body is not JSON ({err.msg})"),)) from None
    except (_Undecodable, RecursionError) as err:
        reason = str(err) if isinstance(err, _Undecodable) else "message body nests too deep to decode"
        raise ContractViolation((Violation("", reason),)) from None
    if not isinstance(event, dict):
        raise ContractViolation((Violation("", "message body is not a JSON object"),))
    return event


def text_violations(event: dict[str, Any], body: str) -> tuple[Violation, ...]:
    """Card-shaped digit runs and lone surrogates anywhere in the event. The walk costs microseconds per string,
    so it runs only when the raw body could hold one (a digit run, or \\u escapes that could spell one)."""
    if "\\u" in body or _SURROGATE.search(body) or card_like(body):
        return tuple(_text_violations(event, "", 0))
    return ()


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# What every card-like match contains: eight digits in a row, or four, a space or dash, and four more. Searching
# for it first is five times cheaper than the full pattern on a whole event body, which (with its timestamps
# and amounts) almost never holds it: the full scan was the largest single cost of checking an event.
_CARD_PREFILTER = re.compile(r"\d{4}[ -]?\d{4}")


def card_like(text: str) -> bool:
    """True when ``text`` holds a 13-19 digit run, or a card number printed in its groups, that passes Luhn."""
    if not _CARD_PREFILTER.search(text):
        return False
    return any(_luhn(re.sub(r"[ -]", "", m.group())) for m in _CARD_LIKE.finditer(text))


def _text_violations(node: Any, pointer: str, depth: int) -> Iterator[Violation]:
    """Strings (values and keys) that can never be accepted: card-number-shaped digit runs, lone surrogates."""
    if depth > MAX_DEPTH:
        yield Violation(pointer, f"nested deeper than {MAX_DEPTH} levels")
    elif isinstance(node, dict):
        for key, value in node.items():
            child = f"{pointer}/{_escape(key)}" if not card_like(key) and not _SURROGATE.search(key) else pointer
            if child == pointer:
                yield Violation(pointer, "a key is shaped like a card number or is not valid text")
                continue
            yield from _text_violations(value, child, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _text_violations(value, f"{pointer}/{index}", depth + 1)
    elif isinstance(node, str):
        if _SURROGATE.search(node):
            yield Violation(pointer, "the text holds a lone surrogate (not valid Unicode)")
        elif card_like(node):
            yield Violation(pointer, "a card-number-shaped digit run is not accepted here (send a token)")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def identifiers(body: str) -> dict[str, str]:
    """The event and order ids of a rejected body, when they can be read and are safe to log (for the rejection
    line only: best effort, never raises)."""
    try:
        event = json.loads(body, parse_int=_bounded_int, parse_constant=_no_constant)
        detail = event.get("detail") if isinstance(event, dict) else None
        meta = detail.get("metadata") if isinstance(detail, dict) else None
        data = detail.get("data") if isinstance(detail, dict) else None
    except (ValueError, RecursionError, AttributeError):
        return {}
    found = {}
    for name, source, key in (("event_id", meta, "eventId"), ("order_id", data, "orderId")):
        value = source.get(key) if isinstance(source, dict) else None
        if isinstance(value, str) and _SAFE_ID.fullmatch(value) and not card_like(value):
            found[name] = value
    return found


_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def checked_event(body: str, accepted: frozenset[str]) -> dict[str, Any]:
    """Parse and validate; also refuse events this function does not consume (a routing error)."""
    event = parse_body(body)
    refused = text_violations(event, body)
    try:
        validate_event(event)
    except ContractViolation as violation:
        raise ContractViolation(refused + tuple(violation.violations)) from None
    if refused:
        raise ContractViolation(refused)
    if event["detail-type"] not in accepted:
        raise ContractViolation(
            (Violation("/detail-type", f"this function consumes only {', '.join(sorted(accepted))}"),)
        )
    return event


def _meta(detail: Mapping[str, Any]) -> TriggerMeta:
    m = detail["metadata"]
    return TriggerMeta(event_id=m["eventId"], correlation_id=m["correlationId"], request_id=m.get("requestId"))


def _amount(raw: Mapping[str, Any]) -> Money:
    return Money(int(raw["minorUnits"]), str(raw["currency"]))


def payment_trigger(event: Mapping[str, Any]) -> PaymentTrigger:
    detail = event["detail"]
    data = detail["data"]
    return PaymentTrigger(
        order_id=data["orderId"],
        customer_id=data["customerId"],
        amount=_amount(data["amount"]),
        token=data["paymentMethod"]["token"],
        meta=_meta(detail),
        context=RiskContext.from_event(data.get("riskContext")),
    )


def refund_trigger(event: Mapping[str, Any]) -> RefundTrigger:
    detail = event["detail"]
    data = detail["data"]
    amount = data.get("amount")
    return RefundTrigger(
        order_id=data["orderId"],
        reason=data["reason"],
        amount=_amount(amount) if amount is not None else None,
        meta=_meta(detail),
    )
