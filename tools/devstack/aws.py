"""Environment and clients of the dev tooling: which emulator, its endpoint and region, boto3 clients, redaction.

Shared by every other module of the package; it imports none of them.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

LOG = logging.getLogger("localsvc")

DEFAULT_REGION = "us-east-2"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
PAYMENT_FUNCTION = "novamart-payment-handler"
REFUND_FUNCTION = "novamart-refund-handler"
PUBLISHER_SOURCE = "novamart.payments"

_TOKEN = re.compile(r"\b(pm|tok)_[A-Za-z0-9_]+")

# --------------------------------------------------------------------------------------------------------------
# environment, clients


EMULATORS = ("moto", "ministack", "localstack")


def emulator_kind() -> str:
    """``moto`` (embedded, default), ``ministack`` or ``localstack``, from ``EMULATOR``."""
    kind = os.environ.get("EMULATOR", "moto").strip().lower() or "moto"
    if kind not in EMULATORS:
        raise SystemExit(f"EMULATOR={kind}: expected one of {', '.join(EMULATORS)}")
    return kind


def stand_in_enabled() -> bool:
    """The stand-in runs only against moto; MiniStack and LocalStack run the Lambdas themselves."""
    return emulator_kind() == "moto"


def endpoint_from_env() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def region_from_env() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(service: str, endpoint_url: str, region: str, *, timeout: float = 10.0) -> Any:
    """A boto3 client for the emulator, with test credentials unless real-looking ones are set."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=BotoConfig(
            connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "max_attempts": 3}
        ),
    )


def redact(text: str) -> str:
    """Mask payment-method tokens in free text (exception messages) before it is logged."""
    return _TOKEN.sub(lambda m: f"{m.group(1)}_<redacted>", text)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    """``items`` in lists of at most ``size`` (the batch APIs take ten entries)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
