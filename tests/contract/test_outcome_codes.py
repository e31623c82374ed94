"""The table of outcome codes (novamart_payments.failure_codes) against the schemas, the docs and the service.

Three promises to consuming teams: the enum in each failure event's schema is exactly the table; the docs
list exactly the table; the service can emit no code outside the table, and every code in the table is
either emitted somewhere or marked reserved. The last one is proven twice: by driving every path that
decides a code (domain decisions, the simulated gateway, the fallbacks) and by scanning the source for
code literals, which also covers adapters this test does not drive (the Stripe adapter's codes).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from contract_support import REPO
from novamart_payments import contracts, domain, events, failure_codes
from novamart_payments.domain import Money, PaymentRecord, RefundRecord, RefundTrigger, Status, TriggerMeta
from novamart_payments.failure_codes import Origin
from novamart_payments.gateway import ChargeRequest, RefundRequest
from novamart_payments.gateway.simulated import _DECLINES, SimulatedGateway
from novamart_payments.repository import Repository

from tools.docgen import schemas

FAILURE_EVENTS = sorted(schemas.CODE_DEFS)
LAMBDA_SRC = REPO / "lambda_src" / "novamart_payments"
GATEWAY_DIR = LAMBDA_SRC / "gateway"


def _table(event: str, *origins: Origin) -> set[str]:
    return {
        s.code.value for s in failure_codes.OUTCOME_CODES if s.event == event and (not origins or s.origin in origins)
    }


def _newest_major(event: str) -> int:
    return max(int(p.stem[1:]) for p in (REPO / "schemas" / "events" / event).glob("v*.json"))


# --- table <-> schemas <-> docs ----------------------------------------------------------------------------


def test_codes_are_unique_snake_case_and_split_by_event() -> None:
    codes = [s.code.value for s in failure_codes.OUTCOME_CODES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{1,63}", c) for c in codes)
    assert set(codes) == {c.value for c in failure_codes.PaymentFailureCode} | {
        c.value for c in failure_codes.RefundFailureCode
    }


@pytest.mark.parametrize("event", FAILURE_EVENTS)
def test_the_runtime_schema_enum_is_the_table(event: str) -> None:
    schema: Any = contracts.resolved_schema(event, _newest_major(event))
    enum = schema["properties"]["detail"]["properties"]["data"]["properties"]["code"]["enum"]
    assert enum == list(failure_codes.codes_for(event))


@pytest.mark.parametrize("event", FAILURE_EVENTS)
def test_the_event_page_lists_exactly_the_table(event: str) -> None:
    page = (REPO / "docs" / "events" / f"{event}.md").read_text()
    assert set(re.findall(r"\(codes/([a-z0-9_]+)\.md\)", page)) == _table(event)
    for code in _table(event, Origin.RESERVED):
        assert f"[`{code}`](codes/{code}.md) (reserved)" in page


def test_one_page_per_code_and_no_other() -> None:
    pages = {p.stem for p in (REPO / "docs" / "events" / "codes").glob("*.md")} - {"index"}
    assert pages == {s.code.value for s in failure_codes.OUTCOME_CODES}
    index = (REPO / "docs" / "events" / "codes" / "index.md").read_text()
    for spec in failure_codes.OUTCOME_CODES:
        assert f"| [`{spec.code.value}`]({spec.code.value}.md) | `{spec.event}` |" in index


def test_a_code_outside_the_table_cannot_be_published() -> None:
    record = _failed_payment(failure_code="payment_not_found")
    with pytest.raises(contracts.ContractViolation) as info:
        contracts.validate_event(events.payment_outcome(record))
    assert info.value.pointers == ("/detail/data/code",)


# --- what the service can emit -----------------------------------------------------------------------------


META = TriggerMeta(event_id="4b6f0f0e-8e2a-4c51-9d0b-2f6f3c1d7a90", correlation_id="corr-1", request_id="rq-1")


def _failed_payment(**changes: Any) -> PaymentRecord:
    fields: dict[str, Any] = {
        "payment_id": domain.payment_id_for("ord-1"),
        "order_id": "ord-1",
        "status": Status.FAILED,
        "customer_id": "cus-1",
        "amount": Money(4999, "USD"),
        "correlation_id": "corr-1",
        "causation_id": META.event_id,
        "updated_at": "2026-11-26T10:00:00.000Z",
    }
    fields.update(changes)
    return PaymentRecord(**fields)


def _refund_decision_codes() -> set[str]:
    usd, captured = Money(1000, "USD"), _failed_payment(status=Status.SUCCEEDED, transaction_id="ch_1")
    states: list[tuple[PaymentRecord, Money | None]] = [
        (_failed_payment(cancelled_before_payment=True, amount=None), None),
        (_failed_payment(), None),
        (_failed_payment(status=Status.SUCCEEDED, refunded_minor_units=4999), None),
        (captured, Money(100, "EUR")),
        (captured, Money(6000, "USD")),
        (captured, usd),
    ]
    codes = set()
    for payment, amount in states:
        decision = domain.decide_refund(payment, None, RefundTrigger("ord-1", "cancelled", amount, META))
        if decision.code:
            codes.add(decision.code)
    return codes


def _simulated_gateway_codes() -> tuple[set[str], set[str]]:
    gw = SimulatedGateway()
    charge_codes = set()
    for n, base in enumerate([*_DECLINES, "unknown_method"]):
        request = ChargeRequest(f"k{n}", f"o{n}", f"p{n}", "c", "corr", Money(100, "USD"), f"pm_card_{base}")
        result = gw.complete_charge(gw.begin_charge(request), request)
        assert not result.approved
        charge_codes.add(str(result.code))
    refund = gw.refund(RefundRequest("r", "o", "r1", "pi_sim_missing", Money(1, "USD")))
    assert not refund.approved
    return charge_codes, {str(refund.code)}


class _CapturingDynamo:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.items.append(kwargs["Item"])
        return {}


def _marker_code() -> str:
    client = _CapturingDynamo()
    Repository("payments", "refunds", client=client).block_payment(  # type: ignore[arg-type]
        domain.payment_id_for("ord-1"), "ord-1", META, "2026-11-26T10:00:00.000Z"
    )
    return str(client.items[0]["failureCode"]["S"])


def _fallback_codes() -> tuple[str, str]:
    payment = events.payment_outcome(_failed_payment(failure_code=None))
    refund = events.refund_outcome(
        RefundRecord(
            refund_id=domain.refund_id_for("refund:ord-1"), order_id="ord-1", status=Status.FAILED, amount=None
        )
    )
    return payment["detail"]["data"]["code"], refund["detail"]["data"]["code"]


def _reconciliation_codes() -> set[str]:
    """The codes reconciliation decides: a payment nobody confirmed (the gateway was down past the retries) and one
    whose customer never authenticated, each run through ``reconcile`` with the simulator and in-memory tables."""
    from datetime import timedelta

    from novamart_payments.reconciliation import Ages
    from novamart_payments.repository import WriteResult
    from novamart_payments.service import PaymentService

    gw = SimulatedGateway()
    outage = ChargeRequest(
        "k1", "ord-out", domain.payment_id_for("ord-out"), "c", "corr", Money(100, "USD"), "pm_card_visa"
    )
    waiting = ChargeRequest(
        "k2",
        "ord-3ds",
        domain.payment_id_for("ord-3ds"),
        "c",
        "corr",
        Money(100, "USD"),
        "pm_card_threeDSecure2Required",
    )
    never_confirmed = gw.begin_charge(outage)
    three_ds = gw.begin_charge(waiting)
    gw.complete_charge(three_ds, waiting)
    records = {
        r.payment_id: r
        for r in (
            _failed_payment(
                payment_id=outage.payment_id, order_id="ord-out", status=Status.PENDING, intent_id=never_confirmed
            ),
            _failed_payment(
                payment_id=waiting.payment_id,
                order_id="ord-3ds",
                status=Status.REQUIRES_ACTION,
                intent_id=three_ds,
                action_expires_at="2000-01-01T00:00:00.000Z",
            ),
        )
    }
    published: list[dict[str, Any]] = []

    class Tables:
        def unfinished_payments(self, status: Status, before: str, limit: int) -> list[PaymentRecord]:
            return [r for r in records.values() if r.status is status]

        def get_payment(self, payment_id: str) -> PaymentRecord:
            return records[payment_id]

        def unfinished_refunds(self, before: str, limit: int) -> list[Any]:
            return []

        def oldest_unfinished_since(self, status: Status, *, refunds: bool = False) -> None:
            return None

        def finish_payment(self, final: PaymentRecord, now: str) -> WriteResult[PaymentRecord]:
            records[final.payment_id] = final
            return WriteResult(True, final)

    class Bus:
        def publish(self, event: dict[str, Any]) -> None:
            published.append(event)

    PaymentService(Tables(), Bus(), gw).reconcile(Ages(timedelta(0), timedelta(0)))  # type: ignore[arg-type]
    return {e["detail"]["data"]["code"] for e in published if e["detail-type"] == "payment.failed"}


def _risk_codes() -> set[str]:
    """The risk rules' blocks (issue 20): a block list, an amount limit, a velocity limit."""
    from novamart_payments.domain import Money
    from novamart_payments.risk import RiskSubject
    from novamart_payments.risk.rules import CounterView, counted_decision, parse_rules, static_decision

    rules = parse_rules(
        {
            "version": 1,
            "blockList": {"customers": ["cus-bad"]},
            "amountLimits": {"USD": 100},
            "velocity": [{"name": "hourly", "windowSeconds": 3600, "maxOrders": 1}],
        }
    )
    at = "2026-12-01T10:00:00.000Z"
    bad = RiskSubject("ord-1", "cus-bad", Money(50, "USD"), "pm_card_visa", at)
    big = RiskSubject("ord-2", "cus-ok", Money(500, "USD"), "pm_card_visa", at)
    fast = RiskSubject("ord-3", "cus-ok", Money(50, "USD"), "pm_card_visa", at)
    twice = CounterView((("ord-0", at, 50, "USD"), ("ord-3", at, 50, "USD")))
    decisions = [static_decision(rules, bad), static_decision(rules, big), counted_decision(rules, fast, twice)]
    return {str(d.code) for d in decisions if d.code is not None}


def driven_codes() -> dict[str, set[str]]:
    """Codes produced by running every code-deciding path this repository has."""
    charge_codes, refund_codes = _simulated_gateway_codes()
    payment_fallback, refund_fallback = _fallback_codes()
    return {
        "payment.failed": charge_codes | {_marker_code(), payment_fallback} | _reconciliation_codes() | _risk_codes(),
        "refund.failed": refund_codes
        | _refund_decision_codes()
        | {refund_fallback, failure_codes.DEFAULT_REFUND_FAILURE},
    }


def literal_codes(source: str) -> set[str]:
    """String literals a module uses as failure codes: ``code=...``, ``GatewayResult(_, _, "<code>", ...)``,
    ``"failureCode": {"S": "<code>"}``, ``_DECLINES``-style tables of ``(code, reason)`` pairs, and
    ``*_CODES``/``*_DECLINES`` mappings whose values are codes."""
    found: set[str] = set()

    def text(node: ast.AST | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "code" and text(node.value):
            found.add(str(text(node.value)))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "GatewayResult" and len(node.args) > 2:
            found.update(filter(None, [text(node.args[2])]))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if text(key) == "failureCode" and isinstance(value, ast.Dict):
                    found.update(filter(None, map(text, value.values)))
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(n.endswith(("_DECLINES", "_CODES")) for n in names) and isinstance(node.value, ast.Dict):
                for value in node.value.values:
                    first = value.elts[0] if isinstance(value, ast.Tuple) and value.elts else value
                    found.update(filter(None, [text(first)]))
    return found


def scanned_codes() -> set[str]:
    return set().union(*(literal_codes(p.read_text()) for p in sorted(LAMBDA_SRC.rglob("*.py"))))


@pytest.mark.parametrize("event", FAILURE_EVENTS)
def test_every_code_the_service_emits_is_in_the_table(event: str) -> None:
    outside = driven_codes()[event] - _table(event)
    assert not outside, f"{event} can carry {sorted(outside)}, which the table in failure_codes.py does not list"


def test_every_code_literal_in_the_service_is_in_the_table() -> None:
    outside = scanned_codes() - {s.code.value for s in failure_codes.OUTCOME_CODES}
    assert not outside, f"lambda_src uses codes missing from failure_codes.py: {sorted(outside)}"


def test_the_scanner_sees_each_way_a_code_is_written() -> None:
    source = """
x = f(code="a_one")
y = GatewayResult(False, None, "b_two", "why")
z = {"failureCode": {"S": "c_three"}}
_DECLINES = {"tok": ("d_four", "why")}
STRIPE_CODES = {"e": "e_five"}
w = g(reason="not_a_code")
"""
    assert literal_codes(source) == {"a_one", "b_two", "c_three", "d_four", "e_five"}


#: Codes the table marks SERVICE whose emitting path is not in this tree yet: issue 10's reconciliation emits them
#: (authentication_expired after a REQUIRES_ACTION deadline, gateway_unavailable after the retry horizon). The list
#: may only shrink: when that path lands, drive it in driven_codes() and delete its code here (a test says so).
@pytest.mark.parametrize("event", FAILURE_EVENTS)
def test_every_code_in_the_table_is_emitted_or_reserved(event: str) -> None:
    emitted = driven_codes()[event] | scanned_codes()
    unreachable = _table(event, Origin.SERVICE, Origin.GATEWAY) - emitted
    assert not unreachable, f"{sorted(unreachable)} are never emitted: emit them or mark them RESERVED"
    emitted_reserved = _table(event, Origin.RESERVED) & emitted
    assert not emitted_reserved, f"{sorted(emitted_reserved)} are emitted: drop RESERVED in failure_codes.py"


def _other_adapters() -> list[Path]:
    return [p for p in GATEWAY_DIR.glob("*.py") if p.name not in ("__init__.py", "simulated.py")]


def test_stripe_only_codes_are_reachable_through_an_adapter() -> None:
    adapters = _other_adapters()
    if not adapters:
        pytest.skip("no gateway adapter besides the simulated one in this tree yet (the Stripe adapter: issue 9)")
    sources = "\n".join(p.read_text() for p in adapters)
    missing = {c for c in _table("payment.failed", Origin.STRIPE) | _table("refund.failed", Origin.STRIPE)}
    missing = {c for c in missing if c not in sources and c.upper() not in sources}
    assert not missing, f"no adapter mentions {sorted(missing)}: emit them or mark them RESERVED"
