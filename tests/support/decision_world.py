"""The service wired to in-memory ports, for the decision tests (tests/decisions): no emulator, no network.

``World`` holds the real ``PaymentService`` over ``MemoryRepository``, ``MemoryPublisher`` and the counting
simulated gateway, with a clock the test moves. ``interleave`` makes a race happen at a chosen point: another
writer's whole delivery runs just before one call of this delivery, which is what a concurrent delivery that got
there first looks like to the service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from novamart_payments import domain
from novamart_payments.domain import PaymentRecord, PaymentTrigger, RefundRecord, RefundTrigger
from novamart_payments.risk import RiskCheck
from novamart_payments.timestamps import iso, plus

from tests.support.counting_gateway import CountingGateway
from tests.support.memory_publisher import MemoryPublisher
from tests.support.memory_repository import MemoryRepository
from tests.support.ports_under_test import PaymentService


class NetworkUsed(AssertionError):
    """A decision test tried to open a connection (tests/decisions/conftest.py refuses every one)."""


class ManualClock:
    """The service's clock: starts at the real time (the simulated gateway dates its answers by it) and moves only
    when the test says so."""

    def __init__(self) -> None:
        self._now = iso(datetime.now(UTC))

    def __call__(self) -> str:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now = plus(self._now, delta)


@dataclass
class World:
    repo: MemoryRepository = field(default_factory=MemoryRepository)
    publisher: MemoryPublisher = field(default_factory=MemoryPublisher)
    gateway: CountingGateway = field(default_factory=CountingGateway)
    clock: ManualClock = field(default_factory=ManualClock)
    risk: RiskCheck | None = None

    @property
    def service(self) -> PaymentService:
        return PaymentService(self.repo, self.publisher, self.gateway, clock=self.clock, risk=self.risk)

    def pay(self, trigger: PaymentTrigger) -> str:
        return self.service.handle_payment(trigger)

    def refund(self, trigger: RefundTrigger, delivery: str | None = None) -> str:
        return self.service.handle_refund(trigger, delivery=delivery)

    def payment(self, order_id: str) -> PaymentRecord | None:
        return self.repo.get_payment(domain.payment_id_for(order_id))

    def refund_record(self, trigger: RefundTrigger) -> RefundRecord | None:
        return self.repo.get_refund(domain.refund_id_for(domain.refund_key(trigger)))

    def events(self, order_id: str) -> list[dict[str, Any]]:
        return self.publisher.of(order_id)

    def event(self, order_id: str, detail_type: str) -> dict[str, Any]:
        """The one event of that type published about the order (fails when there is none, or several)."""
        found = [e for e in self.publisher.of(order_id) if e["detail-type"] == detail_type]
        assert len(found) == 1, f"{len(found)} {detail_type} events for {order_id}: {self.publisher.types(order_id)}"
        return found[0]["detail"]["data"]  # type: ignore[no-any-return]


def interleave(obj: Any, method: str, other_writer: Callable[[], object]) -> list[object]:
    """Run ``other_writer`` once, just before the next call of ``obj.method`` does anything; returns the list its
    answer lands in. The method is restored on that call (so the other writer's own calls are not intercepted)."""
    real = getattr(obj, method)
    answers: list[object] = []

    def first_call(*args: Any, **kwargs: Any) -> Any:
        setattr(obj, method, real)
        answers.append(other_writer())
        return real(*args, **kwargs)

    setattr(obj, method, first_call)
    return answers
