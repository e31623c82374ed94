"""Consumer-driven contracts with Pact message pacts (pact-python 4, no broker: the pact files in contracts/pacts/).

- ``write``: run every consumer test of contracts/consumers (each declares its messages and checks its own
  handler accepts them) and write their pacts into contracts/pacts/ (``--check``: fail when the committed files
  differ from what the consumer tests write).
- ``verify``: the provider verification of every pact whose provider is novamart-payments. Each message is
  produced by the service's real publisher code: the event builders from a stored record of the provider state,
  then ``Publisher.publish`` (schema check, one edition per major in force) into a recording bus; the edition of
  the major the consumer pinned is the message.

``pacts_relying_on`` tells the compatibility checker which pacts a schema change would break (docs/events/pacts.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PACT_DIR = REPO / "contracts" / "pacts"
PROVIDER = "novamart-payments"
os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # pact's usage statistics call home otherwise


# --------------------------------------------------------------------------------------------------------------
# consumer side


def write_pacts(out_dir: Path) -> list[Path]:
    """Run every consumer test and write its pact into ``out_dir``; a consumer whose handler refuses one of its
    own messages fails here, as that team's test would."""
    from pact import Pact

    from contracts.consumers import PACTS

    written = []
    for consumer, provider, declare, handle in PACTS:
        pact = Pact(consumer, provider).with_specification("V4")
        declare(pact)
        pact.verify(handle, "Async")
        pact.write_file(out_dir, overwrite=True)
        written.append(out_dir / f"{consumer}-{provider}.json")
    return written


def _comparable(path: Path) -> Any:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("metadata", None)  # the pact library's own versions
    return doc


def check_pacts() -> list[str]:
    """Differences between the committed pacts and what the consumer tests write now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in write_pacts(Path(tmp))}
        committed = {p.name: p for p in PACT_DIR.glob("*.json")}
        problems = [f"missing: contracts/pacts/{name}" for name in sorted(set(fresh) - set(committed))]
        problems += [f"no consumer test writes contracts/pacts/{name}" for name in sorted(set(committed) - set(fresh))]
        problems += [
            f"differs: contracts/pacts/{name}"
            for name in sorted(set(fresh) & set(committed))
            if _comparable(fresh[name]) != _comparable(committed[name])
        ]
    return problems


# --------------------------------------------------------------------------------------------------------------
# provider side: the messages, from the real publisher


class _RecordingBus:
    """An EventBridge client that keeps what PutEvents was given, as the bus would deliver it."""

    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for number, entry in enumerate(Entries):
            self.delivered.append(
                {
                    "version": "0",
                    "id": f"00000000-0000-4000-8000-{number:012d}",
                    "detail-type": entry["DetailType"],
                    "source": entry["Source"],
                    "account": "123456789012",
                    "time": "2026-12-02T10:00:00Z",
                    "region": "us-east-2",
                    "resources": [],
                    "detail": json.loads(entry["Detail"]),
                }
            )
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}


def _paid(order_id: str = "ord-20261202-1") -> Any:
    from novamart_payments.domain import Money, PaymentRecord, Status, payment_id_for

    return PaymentRecord(
        payment_id_for(order_id),
        order_id,
        Status.SUCCEEDED,
        "cus-42",
        Money(4999, "USD"),
        transaction_id="pi_3Q0example",
        correlation_id="corr-ord-20261202-1",
        causation_id="5d2c9a7e-3b1f-4e8a-9c6d-0000000000c9",
        updated_at="2026-12-02T10:00:00.000Z",
        processed_at="2026-12-02T10:00:00.000Z",
    )


def _declined() -> Any:
    from dataclasses import replace

    from novamart_payments.domain import Status

    return replace(
        _paid(),
        status=Status.FAILED,
        transaction_id=None,
        failure_code="card_declined",
        failure_reason="Your card was declined.",
    )


def _refund(succeeded: bool) -> Any:
    from novamart_payments.domain import Money, RefundRecord, Status

    paid = _paid()
    common = {
        "payment_id": paid.payment_id,
        "customer_id": paid.customer_id,
        "reason": "Customer cancelled before shipping",
        "correlation_id": paid.correlation_id,
        "causation_id": "5d2c9a7e-3b1f-4e8a-9c6d-000000000191",
        "updated_at": "2026-12-02T11:00:00.000Z",
        "processed_at": "2026-12-02T11:00:00.000Z",
    }
    if succeeded:
        return RefundRecord(
            "3f1f0c1e-5b7a-5c4e-9a54-2f3b7d1e9a10",
            paid.order_id,
            Status.SUCCEEDED,
            paid.amount,
            transaction_id="re_3Q0example",
            **common,
        )
    return RefundRecord(
        "3f1f0c1e-5b7a-5c4e-9a54-2f3b7d1e9a11",
        paid.order_id,
        Status.FAILED,
        Money(6000, "USD"),
        failure_code="exceeds_refundable",
        failure_reason="requested 6000 exceeds the refundable 4999",
        **common,
    )


def _provider_states() -> dict[str, Callable[[], dict[str, Any]]]:
    """Each provider state a pact may name: the stored record it stands for, through the real event builder."""
    from novamart_payments import events

    return {
        "an order was paid": lambda: events.payment_outcome(_paid()),
        "a payment was declined": lambda: events.payment_outcome(_declined()),
        "a paid order was refunded in full": lambda: events.refund_outcome(_refund(succeeded=True)),
        "a refund above the remainder was refused": lambda: events.refund_outcome(_refund(succeeded=False)),
    }


def produce(name: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The message of one interaction (Pact's message producer): the real publisher's edition of the pinned major."""
    from novamart_payments.publisher import Publisher

    states = (metadata or {}).get("providerStates") or []
    if len(states) != 1:
        raise ValueError(f"{name!r}: name exactly one provider state (known: {', '.join(_provider_states())})")
    state = states[0]
    builders = _provider_states()
    if state["name"] not in builders:
        raise KeyError(f"{name!r}: unknown provider state {state['name']!r} (known: {', '.join(builders)})")
    major = str((state.get("params") or {}).get("major", ""))
    bus = _RecordingBus()
    Publisher("novamart-events", client=bus).publish(builders[state["name"]]())  # type: ignore[arg-type]
    chosen = [e for e in bus.delivered if e["detail"]["metadata"]["schemaVersion"].split(".")[0] == major]
    if not chosen:
        published = ", ".join(e["detail"]["metadata"]["schemaVersion"] for e in bus.delivered)
        raise LookupError(f"{name!r}: major {major or '?'} is not published (in force: {published})")
    return {"contents": json.dumps(chosen[0]).encode(), "metadata": None, "content_type": "application/json"}


def provider_pacts(pact_dir: Path = PACT_DIR) -> list[Path]:
    return sorted(p for p in pact_dir.glob("*.json") if json.loads(p.read_text())["provider"]["name"] == PROVIDER)


def verify_provider(
    pact_files: list[Path] | None = None, producer: Callable[[str, dict[str, Any] | None], dict[str, Any]] = produce
) -> tuple[bool, str]:
    """Verify the service against the consumers' pacts; answers (passed, the verifier's report)."""
    from pact import Verifier

    verifier = Verifier(PROVIDER)
    for path in pact_files if pact_files is not None else provider_pacts():
        verifier.add_source(path)
    verifier.message_handler(producer)  # type: ignore[arg-type]
    try:
        verifier.verify()
    except RuntimeError:
        return False, verifier.output(strip_ansi=True)
    return True, verifier.output(strip_ansi=True)


# --------------------------------------------------------------------------------------------------------------
# what the compatibility checker asks


@dataclass(frozen=True)
class PactUse:
    """One interaction of one pact that reads a field."""

    consumer: str
    provider: str
    interaction: str
    field: str

    def __str__(self) -> str:
        return f"{self.consumer}'s pact with {self.provider} ({self.interaction!r} reads {self.field})"


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaf_paths(value, (*prefix, key))
    else:
        yield prefix


def instance_path(schema_pointer: str) -> tuple[str, ...]:
    """The event field a schema pointer is about: ``/properties/detail/properties/data/properties/code/enum`` ->
    ``("detail", "data", "code")``; ``/properties/detail/properties/data/required/code`` names the same field."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in schema_pointer.split("/")[1:]]
    # A "properties" token is followed by a field name, which may itself be "properties".
    path: list[str] = []
    index = 0
    while index < len(tokens):
        if tokens[index] in ("properties", "required") and index + 1 < len(tokens):
            path.append(tokens[index + 1])
            index += 2
        else:
            index += 1
    return tuple(path)


def pacts_relying_on(detail_type: str, major: int, schema_pointer: str, pact_dir: Path = PACT_DIR) -> list[PactUse]:
    """The pacts whose messages of ``detail_type`` ``major``.x read the field at ``schema_pointer``, or something
    inside it: the consumers' pacts on what we publish, and our own pacts on what we consume (a consumed event's
    narrowing breaks the messages our pact told its producer it may send)."""
    field = instance_path(schema_pointer)
    uses = []
    for path in sorted(pact_dir.glob("*.json")):
        pact = json.loads(path.read_text(encoding="utf-8"))
        for interaction in pact["interactions"]:
            body = interaction.get("contents", {}).get("content")
            if not isinstance(body, dict) or body.get("detail-type") != detail_type:
                continue
            version = str(body.get("detail", {}).get("metadata", {}).get("schemaVersion", ""))
            if version.split(".")[0] != str(major):
                continue
            for leaf in _leaf_paths(body):
                if leaf[: len(field)] == field:
                    names = (pact["consumer"]["name"], pact["provider"]["name"])
                    uses.append(PactUse(*names, interaction["description"], ".".join(leaf)))
                    break
    return uses


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    parser = argparse.ArgumentParser(prog="tools/pacts.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="run the consumer tests and write contracts/pacts/")
    write.add_argument("--check", action="store_true", help="fail when the committed pacts differ")
    sub.add_parser("verify", help="verify the service against every pact it provides")
    args = parser.parse_args(argv)
    if args.command == "write":
        if args.check:
            problems = check_pacts()
            for problem in problems:
                print(problem, file=sys.stderr)
            print("pacts up to date" if not problems else "run `make pacts` and commit")
            return 1 if problems else 0
        for path in write_pacts(PACT_DIR):
            print(f"wrote {path.relative_to(REPO)}")
        return 0
    passed, report = verify_provider()
    print(report)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
