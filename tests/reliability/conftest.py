"""Fixtures for the reliability matrix: its own tables and audit queue, Hypothesis profiles, and a log capture for the
leak scan.

It uses the session's moto server; moto keeps its state per process, so this suite's names carry a ``rel-`` prefix
and never collide with the other suites' when ``pytest tests`` runs them all in one process.

Profiles are keyed on ``RELIABILITY_PROFILE``: ``default`` is the fast subset ``make test`` runs, ``full`` the
matrix ``make test-reliability`` runs. They are applied to this suite's tests only (never loaded globally), so
other suites' Hypothesis settings are untouched.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from novamart_payments import clients, config, observability
from novamart_payments.gateway.simulated import gateway
from novamart_payments.handlers import _batch
from novamart_payments.majors import is_current_edition

from tests.reliability.harness import CLOCK
from tests.reliability.leaks import find_leaks
from tests.support.service_aws import create_audit_queue, create_tables, handler_environment, remove_audit_rule

REGION = "us-east-2"
PAYMENTS, REFUNDS, BUS = "rel-payments", "rel-refunds", "default"


@dataclass(frozen=True)
class Profile:
    name: str
    state_machine_examples: int
    state_machine_steps: int
    load_events: int


PROFILES = {
    "default": Profile("default", state_machine_examples=30, state_machine_steps=25, load_events=300),
    "full": Profile("full", state_machine_examples=250, state_machine_steps=40, load_events=2000),
}
PROFILE = PROFILES[os.environ.get("RELIABILITY_PROFILE", "default")]

for _p in PROFILES.values():
    settings.register_profile(
        f"reliability-{_p.name}",
        max_examples=_p.state_machine_examples,
        stateful_step_count=_p.state_machine_steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        print_blob=True,
    )
HYPOTHESIS_SETTINGS = settings.get_profile(f"reliability-{PROFILE.name}")

# Figures tests want shown at the end of the run (events per second, examples run), in insertion order.
REPORT: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: part of the reliability matrix (tests/reliability)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORT:
        terminalreporter.section(f"reliability ({PROFILE.name} profile)")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")


@dataclass
class RelAws:
    """The emulator seen from the tests: raw clients and everything published so far."""

    endpoint: str
    dynamodb: Any
    sqs: Any
    audit_queue_url: str
    published: list[dict[str, Any]] = field(default_factory=list)
    all_editions: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drain(self) -> list[dict[str, Any]]:
        """Move every event waiting on the audit queue into ``published``; returns ``published``: each outcome once,
        in its current major (``all_editions`` keeps the older majors' editions too)."""
        with self._lock:
            while True:
                out = self.sqs.receive_message(QueueUrl=self.audit_queue_url, MaxNumberOfMessages=10)
                messages = out.get("Messages", [])
                if not messages:
                    break
                for m in messages:
                    event = json.loads(m["Body"])
                    self.all_editions.append(event)
                    if is_current_edition(event):
                        self.published.append(event)
                self.sqs.delete_message_batch(
                    QueueUrl=self.audit_queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
            return self.published

    def get_items(self, payment_ids: list[str], refund_ids: list[str]) -> tuple[list[Any], list[Any]]:
        """Strongly consistent BatchGetItem over both tables (one call for the invariants)."""
        request: dict[str, Any] = {}
        if payment_ids:
            request[PAYMENTS] = {"Keys": [{"paymentId": {"S": i}} for i in payment_ids], "ConsistentRead": True}
        if refund_ids:
            request[REFUNDS] = {"Keys": [{"refundId": {"S": i}} for i in refund_ids], "ConsistentRead": True}
        found: dict[str, list[Any]] = {PAYMENTS: [], REFUNDS: []}
        while request:
            out = self.dynamodb.batch_get_item(RequestItems=request)
            for table, items in out["Responses"].items():
                found[table].extend(items)
            request = out.get("UnprocessedKeys") or {}
        return found[PAYMENTS], found[REFUNDS]

    def scan_all(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            out = self.dynamodb.scan(**kwargs)
            items.extend(out["Items"])
            if "LastEvaluatedKey" not in out:
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def _reset_process_state() -> None:
    config.get_config.cache_clear()
    clients.reset()
    _batch.service.cache_clear()


@pytest.fixture(scope="session")
def rel_aws(moto_endpoint: str) -> Iterator[RelAws]:
    """The session's moto server (one state per process: names here carry a ``rel-`` prefix)."""
    endpoint = moto_endpoint
    mp = pytest.MonkeyPatch()
    for key, value in handler_environment(endpoint, PAYMENTS, REFUNDS, BUS).items():
        mp.setenv(key, value)
    for key in ("AWS_CALL_TIMEOUT_SECONDS", "AWS_MAX_ATTEMPTS"):
        mp.delenv(key, raising=False)  # the defaults are what the budget test reasons about
    kw = {"endpoint_url": endpoint, "region_name": REGION}
    ddb, sqs, events = boto3.client("dynamodb", **kw), boto3.client("sqs", **kw), boto3.client("events", **kw)
    create_tables(ddb, PAYMENTS, REFUNDS)
    queue_url = create_audit_queue(sqs, events, "rel-audit")
    _reset_process_state()
    yield RelAws(endpoint, ddb, sqs, queue_url)
    remove_audit_rule(events, "rel-audit")
    mp.undo()
    _reset_process_state()


@pytest.fixture
def svc(rel_aws: RelAws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handlers' cached service, whose collaborators the crash injection wraps, on the visibility clock."""
    service = _batch.service()
    monkeypatch.setattr(service, "_now", CLOCK.now)
    return service


# --- log capture for the leak scan --------------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Keeps every line the service logger writes, formatted exactly as Powertools writes it (JSON)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(observability.logger.registered_formatter)
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._guard:
            self.lines.append(line)


@pytest.fixture(scope="session")
def service_logs() -> Iterator[LogCapture]:
    """Installed for the whole reliability session; the logger is switched to DEBUG so every line is seen."""
    std_logger = logging.getLogger(observability.logger.name)
    capture = LogCapture()
    previous = std_logger.level
    std_logger.addHandler(capture)
    std_logger.setLevel(logging.DEBUG)
    yield capture
    std_logger.removeHandler(capture)
    std_logger.setLevel(previous)


@pytest.fixture(autouse=True)
def no_leak_in_this_tests_logs(service_logs: LogCapture) -> Iterator[None]:
    """Each test's own log lines are scanned as soon as it ends, so a leak names the test that caused it."""
    start = len(service_logs.lines)
    yield
    leaks = find_leaks(service_logs.lines[start:])
    assert not leaks, f"log lines leak card numbers or payment tokens: {leaks[:5]}"


def charges(order_id: str) -> list[int]:
    """Amounts the simulated gateway charged for the order (per order, whatever key or handle was used)."""
    return [e.amount.minor_units for e in gateway().movements(order_id) if e.kind == "charge"]


def refunds(order_id: str) -> list[int]:
    return sorted(e.amount.minor_units for e in gateway().movements(order_id) if e.kind == "refund")
