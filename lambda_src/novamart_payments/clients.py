"""AWS clients, built lazily and cached per process.

boto3 client construction costs tens of milliseconds, so it is done once per container, on first use, and
reused by every warm invocation. The endpoint comes from botocore's own ``AWS_ENDPOINT_URL`` handling, which is
how the emulator and LocalStack are reached with the same code.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config as BotoConfig

from novamart_payments.config import get_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_config().aws_region)


def _boto_config() -> BotoConfig:
    cfg = get_config()
    return BotoConfig(
        connect_timeout=cfg.aws_call_timeout_seconds,
        read_timeout=cfg.aws_call_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": cfg.aws_max_attempts},
    )


@functools.cache
def dynamodb() -> DynamoDBClient:
    return _session().client("dynamodb", config=_boto_config())


@functools.cache
def events() -> EventBridgeClient:
    return _session().client("events", config=_boto_config())


def reset() -> None:
    """Forget cached clients, e.g. after a harness switched endpoint or configuration."""
    for cached in (_session, dynamodb, events):
        cached.cache_clear()
