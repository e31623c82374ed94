"""Fixtures and hooks of the reliability matrix: its own tables and audit queue, a log capture for the leak scan,
and the figures shown at the end of the run.

It uses the session's moto server; moto keeps its state per process, so this suite's names carry a ``rel-`` prefix
and never collide with the other suites' when ``pytest tests`` runs them all in one process. The helpers its tests
use live in tests/support: ``reliability_aws`` (the tables, what was published), ``reliability_run`` (profiles
keyed on ``RELIABILITY_PROFILE``, the end-of-run report), ``log_capture`` and ``simulated_movements``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from novamart_payments import observability
from novamart_payments.handlers import _batch

from tests.reliability.harness import CLOCK
from tests.reliability.leaks import find_leaks
from tests.support.log_capture import LogCapture
from tests.support.reliability_aws import BUS, PAYMENTS, REFUNDS, RelAws
from tests.support.reliability_run import PROFILE, REPORT
from tests.support.service_aws import (
    REGION,
    create_audit_queue,
    create_tables,
    handler_environment,
    remove_audit_rule,
    reset_process_state,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: part of the reliability matrix (tests/reliability)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORT:
        terminalreporter.section(f"reliability ({PROFILE.name} profile)")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")


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
    reset_process_state()
    yield RelAws(endpoint, ddb, sqs, queue_url)
    remove_audit_rule(events, "rel-audit")
    mp.undo()
    reset_process_state()


@pytest.fixture
def svc(rel_aws: RelAws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handlers' cached service, whose collaborators the crash injection wraps, on the visibility clock."""
    service = _batch.service()
    monkeypatch.setattr(service, "_now", CLOCK.now)
    return service


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
