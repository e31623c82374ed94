"""The repository port in memory: the DynamoDB adapter's conditional semantics, without an emulator.

Every method of the DynamoDB ``Repository`` that the service, reconciliation, webhook settlement and Radar call is
here, with the same condition and the same answer: which write wins, what a loser is told (the item as it stood),
and what the winner gets back (the new item, or the record the caller wrote where the adapter returns that). So the
decision tests (tests/decisions) can run the service's decisions in microseconds, and the shared contract suite
(tests/ports/test_repository_contract.py) runs the same tests against this class and the DynamoDB adapter on moto,
which is what keeps this fake honest.

What the records do not show is kept beside them, as the tables keep it in attributes the records do not carry:
the sparse ``unfinished`` index (``openStatus``/``openSince``), the refund lease (owner, until, ``refundNotSent``),
``abandonedAt`` and the Radar reviews. A lock makes each method one atomic conditional write, as a DynamoDB item
write (or transaction) is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from novamart_payments.domain import PaymentRecord, PaymentTrigger, RefundRecord, Status, TriggerMeta
from novamart_payments.failure_codes import PaymentFailureCode
from novamart_payments.risk import RiskDecision

from tests.support.ports_under_test import Lease, WriteResult

R = TypeVar("R", PaymentRecord, RefundRecord)
_CANCELLED_REASON = "The order was cancelled before payment was taken."


class ConditionFailed(Exception):
    """An unconditional-looking write on an item that does not exist (the adapter's ConditionalCheckFailed)."""


@dataclass
class _Payment:
    record: PaymentRecord
    open_since: str | None = None  # in the unfinished index while set (under record.status)
    abandoned_at: str | None = None
    reviews: set[str] = field(default_factory=set)


@dataclass
class _Refund:
    record: RefundRecord
    open_since: str | None = None
    lease_until: str | None = None
    lease_owner: str | None = None
    not_sent: bool = False


Row = TypeVar("Row", _Payment, _Refund)


class MemoryRepository:
    """Payments and refunds in two dicts; each method is the adapter's conditional write of the same name."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._payments: dict[str, _Payment] = {}
        self._refunds: dict[str, _Refund] = {}

    # --- payments ----------------------------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> PaymentRecord | None:
        with self._lock:
            row = self._payments.get(payment_id)
            return row.record if row else None

    def claim_payment(self, payment_id: str, trigger: PaymentTrigger, now: str) -> WriteResult[PaymentRecord]:
        record = PaymentRecord(
            payment_id=payment_id,
            order_id=trigger.order_id,
            status=Status.PENDING,
            customer_id=trigger.customer_id,
            amount=trigger.amount,
            correlation_id=trigger.meta.correlation_id,
            causation_id=trigger.meta.event_id,
            created_at=now,
            updated_at=now,
        )
        return self._put_new_payment(_Payment(record, open_since=now))

    def block_payment(self, payment_id: str, order_id: str, meta: TriggerMeta, now: str) -> WriteResult[PaymentRecord]:
        record = PaymentRecord(
            payment_id=payment_id,
            order_id=order_id,
            status=Status.FAILED,
            customer_id=None,
            amount=None,
            failure_code=str(PaymentFailureCode.ORDER_CANCELLED),
            failure_reason=_CANCELLED_REASON,
            cancelled_before_payment=True,
            correlation_id=meta.correlation_id,
            causation_id=meta.event_id,
            created_at=now,
            updated_at=now,
        )
        return self._put_new_payment(_Payment(record))

    def attach_blocked_payment(self, payment_id: str, trigger: PaymentTrigger, now: str) -> WriteResult[PaymentRecord]:
        return _update(
            self._lock,
            self._payments.get(payment_id),
            lambda row: row.record.cancelled_before_payment and row.record.amount is None,
            lambda row: replace(
                row.record,
                customer_id=trigger.customer_id,
                amount=trigger.amount,
                correlation_id=trigger.meta.correlation_id,
                causation_id=trigger.meta.event_id,
                updated_at=now,
            ),
        )

    def record_risk_decision(self, payment_id: str, decision: RiskDecision, now: str) -> WriteResult[PaymentRecord]:
        return _update(
            self._lock,
            self._payments.get(payment_id),
            lambda row: row.record.status is Status.PENDING and row.record.risk is None,
            lambda row: replace(row.record, risk=decision, updated_at=now),
        )

    def store_intent(self, payment_id: str, intent_id: str, now: str) -> WriteResult[PaymentRecord]:
        return _update(
            self._lock,
            self._payments.get(payment_id),
            lambda row: _pending_without_intent(row) and row.abandoned_at is None,
            lambda row: replace(row.record, intent_id=intent_id, updated_at=now),
        )

    def abandon_without_intent(self, payment_id: str, now: str) -> bool:
        def abandon(row: _Payment) -> PaymentRecord:
            row.abandoned_at = row.abandoned_at or now
            return row.record

        return _update(self._lock, self._payments.get(payment_id), _pending_without_intent, abandon).won

    def require_action(self, waiting: PaymentRecord, now: str) -> WriteResult[PaymentRecord]:
        assert waiting.action_type is not None and waiting.action_expires_at is not None

        def wait(row: _Payment) -> PaymentRecord:
            row.open_since = now  # waiting counts from now in the unfinished index
            return replace(
                row.record,
                status=Status.REQUIRES_ACTION,
                action_type=waiting.action_type,
                action_expires_at=waiting.action_expires_at,
                updated_at=now,
            )

        # Like the adapter: the winner gets the caller's record back, not the item (ReturnValues NONE).
        written = replace(waiting, status=Status.REQUIRES_ACTION, updated_at=now)
        return _update(self._lock, self._payments.get(waiting.payment_id), _pending, wait, written)

    def unfinished_payments(self, status: Status, opened_before: str, limit: int) -> list[PaymentRecord]:
        with self._lock:
            found = _index(((r.open_since, r.record) for r in self._payments.values()), status)
            return [record for since, record in found if since < opened_before][:limit]

    def unfinished_refunds(self, opened_before: str, limit: int) -> list[RefundRecord]:
        with self._lock:
            found = _index(((r.open_since, r.record) for r in self._refunds.values()), Status.PENDING)
            return [record for since, record in found if since < opened_before][:limit]

    def oldest_unfinished_since(self, status: Status, *, refunds: bool = False) -> str | None:
        with self._lock:
            if refunds:
                opened = [
                    since for since, _ in _index(((r.open_since, r.record) for r in self._refunds.values()), status)
                ]
            else:
                opened = [
                    since for since, _ in _index(((r.open_since, r.record) for r in self._payments.values()), status)
                ]
            return opened[0] if opened else None

    def note_dispute(self, payment_id: str, dispute_id: str) -> bool:
        return _update(
            self._lock,
            self._payments.get(payment_id),
            lambda row: dispute_id not in row.record.dispute_ids,
            lambda row: replace(row.record, dispute_ids=row.record.dispute_ids | {dispute_id}),
        ).won

    def note_review(self, payment_id: str, review_id: str, state: str) -> None:
        with self._lock:
            row = self._payments.get(payment_id)
            if row is not None:
                row.reviews.add(f"{review_id}:{state}")

    def reviews(self, payment_id: str) -> frozenset[str]:
        """The payment's Radar review notes (the adapter's ``radarReviews``; not part of the record)."""
        with self._lock:
            row = self._payments.get(payment_id)
            return frozenset(row.reviews) if row else frozenset()

    def finish_payment(self, final: PaymentRecord, now: str) -> WriteResult[PaymentRecord]:
        def finish(row: _Payment) -> PaymentRecord:
            row.open_since = None  # out of the unfinished index
            kept = {name: getattr(final, name) for name in _FINAL_PAYMENT_FIELDS if getattr(final, name) is not None}
            return replace(row.record, status=final.status, updated_at=now, published=True, **kept)

        written = replace(final, updated_at=now)  # the caller's record back, as the adapter answers
        return _update(self._lock, self._payments.get(final.payment_id), _unfinished, finish, written)

    def mark_payment_published(self, payment_id: str) -> None:
        with self._lock:
            row = self._payments.get(payment_id)
            if row is None:
                raise ConditionFailed(f"no payment {payment_id}")
            row.record = replace(row.record, published=True)

    # --- refunds -----------------------------------------------------------------------------------------

    def get_refund(self, refund_id: str) -> RefundRecord | None:
        with self._lock:
            row = self._refunds.get(refund_id)
            return row.record if row else None

    def get_payment_and_refund(
        self, payment_id: str, refund_id: str
    ) -> tuple[PaymentRecord | None, RefundRecord | None]:
        with self._lock:
            return self.get_payment(payment_id), self.get_refund(refund_id)

    def reserve_refund(
        self, payment: PaymentRecord, refund: RefundRecord, now: str, lease_until: str, lease_owner: str
    ) -> bool:
        assert payment.amount is not None and refund.amount is not None
        limit = payment.amount.minor_units - refund.amount.minor_units  # from the caller's copy, as the adapter
        with self._lock:
            row = self._payments.get(payment.payment_id)
            if row is None or row.record.status is not Status.SUCCEEDED or row.record.refunded_minor_units > limit:
                return False
            if refund.refund_id in self._refunds:
                return False
            row.record = replace(
                row.record,
                refunded_minor_units=row.record.refunded_minor_units + refund.amount.minor_units,
                updated_at=now,
            )
            self._refunds[refund.refund_id] = _Refund(
                refund, open_since=now, lease_until=lease_until, lease_owner=lease_owner
            )
            return True

    def take_refund_lease(self, refund_id: str, now: str, lease_until: str, lease_owner: str) -> Lease | None:
        with self._lock:
            row = self._refunds.get(refund_id)
            if row is None or row.record.status is not Status.PENDING:
                return None
            free = row.lease_until is None or row.lease_until < now or row.lease_owner == lease_owner
            if not free:
                return None
            lease = Lease(nothing_sent=row.not_sent)
            row.lease_until, row.lease_owner, row.not_sent = lease_until, lease_owner, False
            return lease

    def release_refund_lease(self, refund_id: str, lease_owner: str, *, nothing_sent: bool) -> bool:
        def release(row: _Refund) -> RefundRecord:
            row.lease_until = row.lease_owner = None
            row.not_sent = row.not_sent or nothing_sent
            return row.record

        return _update(
            self._lock,
            self._refunds.get(refund_id),
            lambda row: _pending(row) and row.lease_owner == lease_owner and not row.record.approved,
            release,
        ).won

    def note_refund_pending(self, refund_id: str, transaction_id: str | None, now: str) -> bool:
        def note(row: _Refund) -> RefundRecord:
            row.lease_until = row.lease_owner = None
            return replace(row.record, updated_at=now, transaction_id=transaction_id or row.record.transaction_id)

        return _update(self._lock, self._refunds.get(refund_id), _pending, note).won

    def approve_refund(
        self, refund: RefundRecord, transaction_id: str | None, processed_at: str
    ) -> WriteResult[RefundRecord]:
        return _update(
            self._lock,
            self._refunds.get(refund.refund_id),
            _pending_unapproved,
            lambda row: replace(
                row.record,
                approved=True,
                processed_at=processed_at,
                transaction_id=transaction_id or row.record.transaction_id,
            ),
        )

    def finish_refund(self, final: RefundRecord, now: str) -> WriteResult[RefundRecord]:
        def finish(row: _Refund) -> RefundRecord:
            row.open_since = None
            return replace(
                row.record,
                status=Status.SUCCEEDED,
                updated_at=now,
                published=True,
                transaction_id=final.transaction_id or row.record.transaction_id,
                processed_at=final.processed_at or row.record.processed_at,
            )

        written = replace(final, updated_at=now)
        return _update(self._lock, self._refunds.get(final.refund_id), _pending, finish, written)

    def fail_reserved_refund(self, refund: RefundRecord, code: str, reason: str, now: str) -> bool:
        assert refund.amount is not None and refund.payment_id is not None
        amount = refund.amount.minor_units
        with self._lock:  # one transaction: the refund fails and its amount goes back, or neither
            payment = self._payments.get(refund.payment_id)
            if payment is None:
                return False

            def fail(row: _Refund) -> RefundRecord:
                assert payment is not None
                row.open_since = None
                payment.record = replace(
                    payment.record, refunded_minor_units=payment.record.refunded_minor_units - amount
                )
                return replace(
                    row.record, status=Status.FAILED, failure_code=code, failure_reason=reason, updated_at=now
                )

            return _update(self._lock, self._refunds.get(refund.refund_id), _pending_unapproved, fail).won

    def record_refund_failure(self, refund: RefundRecord) -> WriteResult[RefundRecord]:
        with self._lock:
            row = self._refunds.get(refund.refund_id)
            if row is not None:
                return WriteResult(False, row.record)
            self._refunds[refund.refund_id] = _Refund(refund)
            return WriteResult(True, refund)

    def mark_refund_published(self, refund_id: str) -> None:
        with self._lock:
            row = self._refunds.get(refund_id)
            if row is None:
                raise ConditionFailed(f"no refund {refund_id}")
            row.record = replace(row.record, published=True)

    # --- helpers -----------------------------------------------------------------------------------------

    def _put_new_payment(self, row: _Payment) -> WriteResult[PaymentRecord]:
        with self._lock:
            existing = self._payments.get(row.record.payment_id)
            if existing is not None:
                return WriteResult(False, existing.record)
            self._payments[row.record.payment_id] = row
            return WriteResult(True, row.record)


#: What finishing a payment writes from the final record, when the record has it (the rest stays as stored).
_FINAL_PAYMENT_FIELDS = (
    "transaction_id",
    "failure_code",
    "failure_reason",
    "processed_at",
    "radar_outcome",
    "radar_risk_level",
    "radar_risk_score",
)


def _update(
    lock: threading.RLock,
    row: Row | None,
    allowed: Callable[[Row], bool],
    change: Callable[[Row], Any],
    written: Any = None,
) -> WriteResult[Any]:
    """One conditional UpdateItem: a missing item or a failed condition loses and gets the item as it stands;
    the winner's change is applied, and it gets the new item (or ``written``, the caller's record, where the
    adapter does not read the item back)."""
    with lock:
        if row is None or not allowed(row):
            return WriteResult(False, row.record if row else None)
        row.record = change(row)
        return WriteResult(True, written if written is not None else row.record)


def _pending(row: _Payment | _Refund) -> bool:
    return row.record.status is Status.PENDING


def _pending_unapproved(row: _Refund) -> bool:
    """A refund whose answer is not recorded yet: only such a refund may be approved, or fail."""
    return row.record.status is Status.PENDING and not row.record.approved


def _unfinished(row: _Payment) -> bool:
    return row.record.status.unfinished


def _pending_without_intent(row: _Payment) -> bool:
    return row.record.status is Status.PENDING and row.record.intent_id is None


def _index(rows: Iterable[tuple[str | None, R]], wanted: Status) -> list[tuple[str, R]]:
    """The sparse ``unfinished`` index under ``wanted``, oldest first: only open rows are in it, under their
    status (a row's openStatus is its status while it is open)."""
    found = [(since, record) for since, record in rows if since is not None and record.status is wanted]
    return sorted(found, key=lambda pair: pair[0])
