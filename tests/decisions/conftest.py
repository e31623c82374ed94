"""The decision tests run with no network at all: any socket connect from a test fails it.

Why: the point of this suite is that the service's decisions are tested without an emulator (issue 23). If a
decision, a fake or a fixture ever reached for DynamoDB, EventBridge, Stripe or a scorer, its connect would raise
``NetworkUsed`` here instead of quietly talking to a server that happens to run. Only the thread running the test
is refused: in ``make test``'s one process other suites' servers (moto, the Terraform apply) keep working beside it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.decision_world import NetworkUsed, World


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse every connect from the test's thread, and fail the test afterwards if it tried one, even when a
    library caught the error (botocore wraps it, then the caller may retry or give up quietly)."""
    test_thread = threading.get_ident()
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(real: Any) -> Any:
        def connect(sock: socket.socket, address: Any) -> Any:
            if threading.get_ident() == test_thread:
                attempts.append(repr(address))
                raise NetworkUsed(f"a decision test connected to {address!r}: it must need no emulator or network")
            return real(sock, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", refuse(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse(real_connect_ex))
    yield attempts
    if attempts:
        pytest.fail(f"the test tried to connect to {', '.join(attempts)}: decision tests need no network", False)


@pytest.fixture
def fakes() -> World:
    """The service on in-memory ports. (Not named ``world``: the root conftest reads a ``world`` fixture as the
    behaviour suite's, which needs the applied stack, and would start the Terraform apply for nothing.)"""
    return World()
