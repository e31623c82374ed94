"""Which majors of each published event are in force, and until when: the one table of them.

A new major is published beside the old one for a deprecation window (docs/events/versioning.md): a consumer that
pinned the old major (an EventBridge rule with ``{"prefix": "1."}`` on ``detail.metadata.schemaVersion``) keeps
receiving every outcome until the window's last day, and moves when it is ready, not when we deploy. During the
window each outcome goes out once per major in force, all with the same ``eventId``: it is one fact, so a consumer
subscribed to both majors deduplicates it as it deduplicates any redelivery.

The event builders (publisher.py) build the current major; an older major in force is derived from it by the
converter registered here for it, so a new major of any event (``payment.failed`` 2 for the fraud work) is one
table row and one converter. Terraform's ``event_majors`` variable (terraform/modules/service) carries the same
table to the functions as ``EVENT_MAJORS``: its default must equal ``terraform_table()`` (a unit test compares
them), and an override may only end a window earlier than this table says, never extend it or add a major the
code cannot build (``windows_from_env``, checked at the cold start).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from novamart_payments.failure_codes import older_code

#: Converts the ``detail.data`` of the current major into the ``detail.data`` of an older major.
Downgrade = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class OlderMajor:
    """An older major still published: the version it is built to, its last day, and how it is derived."""

    version: str
    last_day: date
    downgrade: Downgrade

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass(frozen=True, slots=True)
class EventMajors:
    """The majors of one published event: the current one (``MAJOR.MINOR`` it is built to) and older ones."""

    current: str
    older: tuple[OlderMajor, ...] = field(default=())

    @property
    def current_major(self) -> int:
        return int(self.current.split(".")[0])


def _refund_failed_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """refund.failed 1.0 from 2.0: v1's ``reason`` is why the refund failed (v2's ``failureReason``); v1 has no
    ``refundReason``. Field order follows the v1 schema."""
    out = {key: value for key, value in data.items() if key not in ("failureReason", "refundReason")}
    out["reason"] = data["failureReason"]
    return out


def _payment_failed_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """payment.failed 1.1 from 2.0: 2.0 widened the ``code`` enum (fraud_suspected, risk_limit_exceeded,
    radar_blocked); a 1.x consumer's schema rejects those, so its edition carries the stand-in the outcome table
    names for each (``card_declined``: what a Radar block was published as before 2.0). ``reason`` still says why."""
    out = dict(data)
    out["code"] = older_code(str(data["code"]), 1)
    return out


#: The table. Every published detail-type has a row; ``tests/unit/test_majors.py`` checks each version against
#: its schema file and ``schemas/released``, and the Terraform default against ``terraform_table()``.
PUBLISHED_MAJORS: Mapping[str, EventMajors] = {
    "payment.succeeded": EventMajors("1.0"),
    # 2.0 added the risk and Radar codes (a widened enum); 1.1 stays for its window, fraud codes as card_declined.
    "payment.failed": EventMajors("2.0", (OlderMajor("1.1", date(2027, 6, 30), _payment_failed_v1),)),
    # 1.1 added the optional refundReason (``fraudulent`` for the service's own fraud refunds, issue 20).
    "refund.succeeded": EventMajors("1.1"),
    # 2.0 split v1's ambiguous ``reason`` into failureReason and refundReason; 1.0 stays for its window.
    "refund.failed": EventMajors("2.0", (OlderMajor("1.0", date(2027, 6, 30), _refund_failed_v1),)),
    "payment.action_required": EventMajors("1.0"),
    "payment.disputed": EventMajors("1.0"),
}


#: Per detail-type, the last day of each older major (ISO date), as ``EVENT_MAJORS`` carries it.
Windows = Mapping[str, Mapping[int, date]]


class MajorsError(ValueError):
    """An ``EVENT_MAJORS`` setting the code cannot honour; the message says which entry and why."""


def code_windows() -> dict[str, dict[int, date]]:
    """The windows as this table sets them."""
    return {dt: {old.major: old.last_day for old in majors.older} for dt, majors in PUBLISHED_MAJORS.items()}


def terraform_table() -> dict[str, dict[str, Any]]:
    """The table in the shape of Terraform's ``event_majors`` variable (and of ``EVENT_MAJORS``)."""
    return {
        dt: {
            "current": majors.current_major,
            "deprecated": {str(old.major): old.last_day.isoformat() for old in majors.older},
        }
        for dt, majors in PUBLISHED_MAJORS.items()
    }


def windows_from_env(raw: str | None) -> dict[str, dict[int, date]]:
    """The windows ``EVENT_MAJORS`` asks for, checked against the table.

    Unset or empty: the table's own windows. Otherwise it must name every published event with the table's
    current major; each deprecated major must be one the table has, with a last day no later than the table's
    (the docs promise that date to consumers). A major left out, or a date already past, ends that window.
    """
    table = code_windows()
    if not raw:
        return table
    try:
        doc = json.loads(raw)
    except ValueError:
        raise MajorsError("EVENT_MAJORS is not JSON") from None
    if not isinstance(doc, dict) or set(doc) != set(PUBLISHED_MAJORS):
        raise MajorsError(f"EVENT_MAJORS must name exactly the published events: {', '.join(sorted(PUBLISHED_MAJORS))}")
    windows: dict[str, dict[int, date]] = {}
    for detail_type, entry in doc.items():
        majors = PUBLISHED_MAJORS[detail_type]
        if not isinstance(entry, dict) or entry.get("current") != majors.current_major:
            raise MajorsError(f"EVENT_MAJORS[{detail_type}].current must be {majors.current_major} (the code's)")
        deprecated = entry.get("deprecated") or {}
        if not isinstance(deprecated, dict):
            raise MajorsError(f"EVENT_MAJORS[{detail_type}].deprecated must map a major to its last day")
        windows[detail_type] = {}
        for key, last in deprecated.items():
            major = int(key) if str(key).isdigit() else -1
            if major not in table[detail_type]:
                raise MajorsError(f"EVENT_MAJORS[{detail_type}]: major {key} is not one the code publishes beside")
            try:
                last_day = date.fromisoformat(str(last))
            except ValueError:
                raise MajorsError(f"EVENT_MAJORS[{detail_type}][{key}]={last!r} is not a YYYY-MM-DD date") from None
            if last_day > table[detail_type][major]:
                raise MajorsError(
                    f"EVENT_MAJORS[{detail_type}][{key}]={last} is later than the documented last day "
                    f"{table[detail_type][major].isoformat()}"
                )
            windows[detail_type][major] = last_day
    return windows


def editions(
    detail_type: str, data: Mapping[str, Any], today: date, windows: Windows | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """``(schemaVersion, data)`` of every major of one outcome in force on ``today``, the current major first.

    ``data`` is the current major's. An older major is in force up to and including its last day.
    """
    majors = PUBLISHED_MAJORS[detail_type]
    ends = (windows if windows is not None else code_windows()).get(detail_type, {})
    out = [(majors.current, dict(data))]
    for old in majors.older:
        last_day = ends.get(old.major)
        if last_day is not None and today <= last_day:
            out.append((old.version, old.downgrade(data)))
    return out


def current_version(detail_type: str) -> str:
    """The ``MAJOR.MINOR`` the builders build ``detail_type`` to."""
    return PUBLISHED_MAJORS[detail_type].current


def is_current_edition(event: Mapping[str, Any]) -> bool:
    """False for an older major's edition of an outcome (what a consumer of the current major never receives).

    Readers that count outcomes (the audit views of the tests and the demo) count each fact once this way, while
    every edition is still validated.
    """
    detail_type = event.get("detail-type")
    if detail_type not in PUBLISHED_MAJORS:
        return True
    detail = event.get("detail")
    metadata = detail.get("metadata") if isinstance(detail, Mapping) else None
    version = metadata.get("schemaVersion") if isinstance(metadata, Mapping) else None
    if not isinstance(version, str):
        return True
    major = version.split(".")[0]
    return not any(str(old.major) == major for old in PUBLISHED_MAJORS[str(detail_type)].older)
