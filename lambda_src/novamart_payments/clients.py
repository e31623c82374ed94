"""AWS clients, built lazily and cached per process.

boto3 client construction costs tens of milliseconds, so it is done once per container, on first use, and
reused by every warm invocation. The endpoint comes from botocore's own ``AWS_ENDPOINT_URL`` handling, which is
how the emulator and LocalStack are reached with the same code.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config as BotoConfig

from novamart_payments.config import RECORD_MAX_AWS_CALLS, get_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient


@functools.cache
def session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_config().aws_region)


def _boto_config() -> BotoConfig:
    cfg = get_config()
    return BotoConfig(
        connect_timeout=cfg.aws_call_timeout_seconds,
        read_timeout=cfg.aws_call_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": cfg.aws_max_attempts},
    )


class CallCapReached(RuntimeError):
    """The record asked for more AWS calls than any path needs (e.g. a contention loop): it fails and SQS
    redelivers it, rather than spend time the rest of the batch was budgeted."""


_calls = threading.local()


def start_record() -> None:
    """Count this thread's AWS calls from zero, up to RECORD_MAX_AWS_CALLS, until ``end_record()``."""
    _calls.count = 0


def end_record() -> None:
    _calls.count = None


def _count_call(**_: Any) -> None:
    count = getattr(_calls, "count", None)
    if count is None:  # outside a record (tools, tests): no cap
        return
    if count >= RECORD_MAX_AWS_CALLS:
        raise CallCapReached(f"a record may make at most {RECORD_MAX_AWS_CALLS} AWS calls")
    _calls.count = count + 1


def _capped(client: Any) -> Any:
    client.meta.events.register("before-call", _count_call)
    return client


@functools.cache
def dynamodb() -> DynamoDBClient:
    return _capped(session().client("dynamodb", config=_boto_config()))  # type: ignore[no-any-return]


@functools.cache
def events() -> EventBridgeClient:
    return _capped(session().client("events", config=_boto_config()))  # type: ignore[no-any-return]


@functools.cache
def budget_dynamodb() -> DynamoDBClient:
    """The request budget's client: one attempt (its time is in every gateway request's budget, not the record's
    capped AWS calls), so a slow counter turns into a transient failure instead of a long wait."""
    cfg = get_config()
    config = BotoConfig(
        connect_timeout=cfg.aws_call_timeout_seconds,
        read_timeout=cfg.aws_call_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return session().client("dynamodb", config=config)


@functools.cache
def sqs() -> SQSClient:
    """For the failed record's own message only (its backoff), after the record's capped calls are over."""
    return session().client("sqs", config=_boto_config())


@functools.cache
def ssm() -> Any:
    """The risk rules' reads (Powertools Parameters): one per cache TTL per container, outside the record's capped
    calls (a cold cache would otherwise cost a record one call more than its path)."""
    return session().client("ssm", config=_boto_config())


def reset() -> None:
    """Forget cached clients, e.g. after a harness switched endpoint or configuration."""
    for cached in (session, dynamodb, events, sqs, budget_dynamodb, ssm):
        cached.cache_clear()
