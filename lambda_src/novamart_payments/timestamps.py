"""Timestamps as the tables and the events carry them: ISO 8601 in UTC, milliseconds, a ``Z`` suffix.

One spelling everywhere matters because records are compared and queried by these strings (the reconciler's
"older than" index queries, lease expiry), so two writers must never format the same moment differently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def iso(moment: datetime) -> str:
    """``moment`` (timezone-aware) in the stored spelling."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return iso(datetime.now(UTC))


def from_epoch(seconds: int) -> str:
    """A gateway's Unix ``created`` time in the stored spelling."""
    return iso(datetime.fromtimestamp(seconds, UTC))


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def plus(timestamp: str, delta: timedelta) -> str:
    return iso(parse(timestamp) + delta)


def seconds_between(earlier: str, later: str) -> float:
    """How long from ``earlier`` to ``later``; never negative (clocks of two writers may disagree slightly)."""
    return max((parse(later) - parse(earlier)).total_seconds(), 0.0)
