"""The local Stripe for test sessions: localstripe behind its fault-injecting proxy, on a free port.

``local_stripe`` (session fixture) starts one ``python -m tools.devstack stripe serve`` process for the whole run and
yields a ``StripeStack``: ``api_base`` is what the handlers talk to, ``faults`` injects outages (through the
proxy's control endpoint, so it works wherever the functions run), ``stripe`` is a ``LocalStripe`` client for the
tests (payment methods from test cards, per-order charges and refunds at the gateway).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import free_port
from tools.devstack.stripe_faults import RemoteFaults
from tools.devstack.stripe_local import TEST_SECRET_KEY, LocalStripe, start_process

SECRET_NAME = "novamart/payments/stripe-test-key"


@dataclass
class StripeStack:
    api_base: str
    faults: RemoteFaults
    stripe: LocalStripe

    def stripe_environment(self, secret_id: str = SECRET_NAME) -> dict[str, str]:
        """Handler settings for the stripe adapter against this stack. The SDK's own retries are off so that one
        injected fault is one failed attempt; localstripe refuses ``off_session`` on confirm (see docs/gateway.md)."""
        return {
            "GATEWAY_MODE": "stripe",
            "STRIPE_SECRET_ID": secret_id,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_OFF_SESSION": "false",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_TIMEOUT_SECONDS": "5",
        }


def store_test_key(secretsmanager: Any, name: str = SECRET_NAME) -> None:
    """What the local Terraform apply does: the secret holds localstripe's test key."""
    try:
        secretsmanager.create_secret(Name=name, SecretString=TEST_SECRET_KEY)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=name, SecretString=TEST_SECRET_KEY)


@pytest.fixture(scope="session")
def local_stripe() -> Iterator[StripeStack]:
    log = Path(tempfile.mkdtemp(prefix="localstripe-")) / "localstripe.log"
    port = free_port()
    process = start_process("127.0.0.1", port, log)
    api_base = f"http://127.0.0.1:{port}"
    try:
        yield StripeStack(api_base, RemoteFaults(api_base), LocalStripe(api_base))
    finally:
        process.terminate()
        process.wait(timeout=10)
