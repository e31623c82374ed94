"""The local Lambda service: a stand-in for AWS Lambda's SQS pollers, plus helpers the dev tools share.

moto stores Lambda functions and event-source mappings but cannot run code without Docker. This module plays
the part of the Lambda service for the embedded emulator, in one implementation used by three callers:

* the behaviour suite (``tests/support/lambda_service.py`` re-exports it; a background thread in the test process),
* the developer service ``tools/localsvc.py`` (a detached process started by ``make dev`` / ``make demo``),
* ``tools/demo.py``, ``tools/seed.py``, ``tools/check.py``, ``tools/doctor.py`` (discovery, events, tables).

What the stand-in does, as the real service would:

* ``discover()`` reads the deployed SQS event-source mappings (``lambda list_event_source_mappings``) and each
  target's configuration (``get_function_configuration``: handler, environment, timeout, memory) back from the
  emulator, and the queue's redrive policy (``maxReceiveCount``, DLQ) from SQS. Nothing is hard-coded.
* ``poll_once()`` receives up to ``BatchSize`` messages per enabled mapping and invokes the handler in-process
  with an SQS event shaped like Lambda's and a realistic context (a fresh request id per invocation, remaining
  time counted down from the configured timeout, function name/ARN/version/memory, log group and stream).
  While the handler runs, the process environment holds the function's variables plus ``AWS_ENDPOINT_URL`` and
  the region (``novamart_payments.config.get_config`` and the cached clients are reset when that changes).
* Results follow Lambda's rules: an exception or a timeout fails the whole batch; with
  ``ReportBatchItemFailures`` only the listed ``itemIdentifier`` s fail (an unknown or empty identifier fails
  the whole batch); successes are deleted.
* Failures stay in the queue. **Emulated backoff:** the queue's visibility timeout (30 s or more) would make
  a retry take half a minute, so the stand-in sets a failed message's visibility to ``retry_delay_seconds``
  (default 0 in tests, 1 s in the dev service) with ``ChangeMessageVisibility``. Redrive is left to the emulator:
  moto moves a message to the DLQ on the first receive after its receive count reached ``maxReceiveCount``,
  exactly as SQS does, and the stand-in only records that the message is exhausted.

Concurrency: the developer service (``concurrent=True``, as ``tools/localsvc.py`` runs it for ``make dev`` and
``make demo``) runs each mapping with up to its ``MaximumConcurrency`` invocations at once (five without one, as
Lambda starts), each on its own received batch, so concurrent deliveries really happen locally. The suites keep
the default of one invocation at a time for determinism, plus the explicit ``concurrent_deliveries()`` knob of the
concurrent-duplicate scenario, which hands each message of a batch to its own simultaneous invocation.

Not emulated: the batching window (the stand-in invokes as soon as messages are there, which Lambda may also do)
and isolation between functions (both run in this process, like one warm container each; since the process
environment holds one function's variables at a time, an invocation of the other function waits until the running
ones are done).

``AuditTapBound`` keeps the audit queue shallow where nothing reads it (``make dev``): moto's SendMessage, and so
every PutEvents the tap matches, slows down with the queue's depth (7.8 ms at 0, 85 ms at 4,000 messages).

LocalStack mode (``EMULATOR=localstack``): Lambda really runs there, so the stand-in must not run;
``stand_in_enabled()`` says so and every caller checks it.

Nothing here logs a message body: bodies carry payment-method tokens. Log lines name detail-type, order id and
event id only, and ``redact()`` masks anything that looks like a token in exception text.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

LOG = logging.getLogger("localsvc")

DEFAULT_REGION = "us-east-2"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
PAYMENT_FUNCTION = "novamart-payment-handler"
REFUND_FUNCTION = "novamart-refund-handler"
PUBLISHER_SOURCE = "novamart.payments"
# Concurrent mode: invocations of a mapping without MaximumConcurrency at once (Lambda starts with five batches),
# and the most invocations of all mappings together.
DEFAULT_SQS_CONCURRENCY = 5
MAX_CONCURRENT_INVOCATIONS = 32
SCHEMA_VERSION = "1.0"

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


def patch_moto_sqs_esm_invocation() -> None:
    """Stop moto from "invoking" Lambda functions behind SQS event-source mappings itself.

    moto 5.2.5, on every SendMessage to a queue with an enabled mapping, receives up to BatchSize visible
    messages and tries to run the function in Docker. Without Docker that fails, the messages become visible
    again, but each of those phantom receives has counted towards ``maxReceiveCount`` — so messages would be
    dead-lettered after a few unrelated sends. The mapping itself stays stored and readable (the stand-in needs
    it); only the in-emulator invocation is switched off. Apply it in the process that runs the moto server
    (``tools/emulator.py serve`` does; an in-process ``ThreadedMotoServer`` in the test session can too).
    Idempotent.
    """
    from moto.sqs import models as sqs_models

    if getattr(sqs_models.Queue, "_localsvc_patched", False):
        return

    def _get(self: Any) -> dict[str, Any]:
        return {}

    def _set(self: Any, value: Any) -> None:
        return None

    sqs_models.Queue.lambda_event_source_mappings = property(_get, _set)  # type: ignore[assignment]
    sqs_models.Queue._localsvc_patched = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------------------
# discovery


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    version: str = "$LATEST"


@dataclass(frozen=True)
class QueueInfo:
    arn: str
    url: str
    visibility_timeout: int
    max_receive_count: int | None
    dlq_arn: str | None
    dlq_url: str | None


@dataclass(frozen=True)
class EventSourceMapping:
    uuid: str
    function: FunctionConfig
    queue: QueueInfo
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    enabled: bool
    maximum_concurrency: int | None


@dataclass(frozen=True)
class StackInfo:
    """What the local stack looks like, read from the emulator (the functions' environment names the rest)."""

    functions: dict[str, FunctionConfig]
    mappings: list[EventSourceMapping]
    payment_table: str | None
    refund_table: str | None
    event_bus: str | None
    audit_queue_url: str | None
    rules: list[dict[str, Any]] = field(default_factory=list)


def _queue_url_from_arn(sqs: Any, arn: str) -> str:
    parts = arn.split(":")
    return sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]


def queue_info(sqs: Any, arn: str) -> QueueInfo:
    url = _queue_url_from_arn(sqs, arn)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    dlq_arn = redrive.get("deadLetterTargetArn")
    dlq_url = _queue_url_from_arn(sqs, dlq_arn) if dlq_arn else None
    max_receive = int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None
    return QueueInfo(arn, url, int(attrs.get("VisibilityTimeout", 30)), max_receive, dlq_arn, dlq_url)


def _paginate(lam_or_client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in lam_or_client.get_paginator(op).paginate(**kwargs) for item in page[key]]


def function_config(lam: Any, name_or_arn: str) -> FunctionConfig:
    cfg = lam.get_function_configuration(FunctionName=name_or_arn)
    return FunctionConfig(
        name=cfg["FunctionName"],
        arn=cfg["FunctionArn"],
        handler=cfg["Handler"],
        environment=dict((cfg.get("Environment") or {}).get("Variables") or {}),
        timeout_seconds=int(cfg.get("Timeout") or 3),
        memory_mb=int(cfg.get("MemorySize") or 128),
        version=cfg.get("Version") or "$LATEST",
    )


def discover_stack(endpoint_url: str, region: str) -> StackInfo:
    """Read functions, SQS mappings, queues, tables, bus and audit queue back from the emulator."""
    lam = client("lambda", endpoint_url, region)
    sqs = client("sqs", endpoint_url, region)
    functions: dict[str, FunctionConfig] = {}
    for fn in _paginate(lam, "list_functions", "Functions"):
        functions[fn["FunctionName"]] = function_config(lam, fn["FunctionName"])
    mappings = []
    for esm in _paginate(lam, "list_event_source_mappings", "EventSourceMappings"):
        source = esm.get("EventSourceArn", "")
        if ":sqs:" not in source:
            continue
        fn_name = esm["FunctionArn"].split(":function:")[1].split(":")[0]
        fn_cfg = functions.get(fn_name) or function_config(lam, esm["FunctionArn"])
        try:
            queue = queue_info(sqs, source)
        except ClientError as exc:
            LOG.warning("mapping %s: queue %s unreadable: %s", esm["UUID"], source, exc)
            continue
        mappings.append(
            EventSourceMapping(
                uuid=esm["UUID"],
                function=fn_cfg,
                queue=queue,
                batch_size=int(esm.get("BatchSize") or 10),
                batching_window_seconds=int(esm.get("MaximumBatchingWindowInSeconds") or 0),
                report_batch_item_failures="ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []),
                enabled=esm.get("State", "Enabled") in ("Enabled", "Enabling", "Updating", "Creating"),
                maximum_concurrency=(esm.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            )
        )
    env: dict[str, str] = {}
    for fn in functions.values():
        if fn.name in (PAYMENT_FUNCTION, REFUND_FUNCTION):
            env.update(fn.environment)
    bus = env.get("EVENT_BUS_NAME")
    rules: list[dict[str, Any]] = []
    audit_url = None
    if bus:
        events = client("events", endpoint_url, region)
        with contextlib.suppress(ClientError):
            for rule in _paginate(events, "list_rules", "Rules", EventBusName=bus):
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
                rules.append({**rule, "Targets": targets})
                pattern = json.loads(rule.get("EventPattern") or "{}")
                if pattern.get("source") == [PUBLISHER_SOURCE] and "detail-type" not in pattern:
                    for target in targets:
                        if ":sqs:" in target["Arn"] and audit_url is None:
                            audit_url = _queue_url_from_arn(sqs, target["Arn"])
    return StackInfo(
        functions=functions,
        mappings=mappings,
        payment_table=env.get("PAYMENT_TABLE_NAME"),
        refund_table=env.get("REFUND_TABLE_NAME"),
        event_bus=bus,
        audit_queue_url=audit_url,
        rules=rules,
    )


# --------------------------------------------------------------------------------------------------------------
# the Lambda context and the process environment


class LambdaContext:
    """What the Python runtime passes as ``context`` (the attributes handlers and Powertools read)."""

    def __init__(self, fn: FunctionConfig, log_stream: str) -> None:
        self.function_name = fn.name
        self.function_version = fn.version
        self.invoked_function_arn = fn.arn
        self.memory_limit_in_mb = str(fn.memory_mb)  # the runtime hands it over as a string, too
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = log_stream
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + fn.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _EnvGate:
    """Process environment for in-process invocations.

    Invocations with the same environment may run concurrently; one with a different environment waits until
    they are done. Whenever the environment changes, the package's cached configuration and clients are reset.
    The original values come back on ``restore()``.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._active: tuple[tuple[str, str], ...] | None = None
        self._count = 0
        self._saved: dict[str, str | None] = {}

    @contextlib.contextmanager
    def applied(self, env: Mapping[str, str]) -> Iterator[None]:
        key = tuple(sorted(env.items()))
        with self._cv:
            while self._count and self._active != key:
                self._cv.wait()
            if self._active != key:
                for name, value in env.items():
                    self._saved.setdefault(name, os.environ.get(name))
                    os.environ[name] = value
                self._active = key
                _reset_package_caches()
            self._count += 1
        try:
            yield
        finally:
            with self._cv:
                self._count -= 1
                self._cv.notify_all()

    def restore(self) -> None:
        with self._cv:
            while self._count:
                self._cv.wait()
            for name, value in self._saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved.clear()
            self._active = None
            _reset_package_caches()


def _reset_package_caches() -> None:
    for module, attr in (("novamart_payments.config", "get_config"), ("novamart_payments.clients", "reset")):
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        if attr == "get_config":
            obj.cache_clear()
        else:
            obj()


_ENV_GATE = _EnvGate()  # one per process: os.environ is process-wide


# --------------------------------------------------------------------------------------------------------------
# the stand-in


Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class MessageTrack:
    """Everything the stand-in saw of one SQS message."""

    message_id: str
    function: str
    queue_arn: str
    detail_type: str | None
    order_id: str | None
    event_id: str | None
    deliveries: int = 0
    receive_count: int = 0
    state: str = "in-flight"  # in-flight | retrying | succeeded | dead-lettered
    request_ids: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return self.state in ("succeeded", "dead-lettered")


@dataclass(frozen=True)
class Invocation:
    function: str
    request_id: str
    message_ids: tuple[str, ...]
    failed_ids: tuple[str, ...]
    duration_ms: float
    error: str | None


def _summary(body: str) -> tuple[str | None, str | None, str | None]:
    """(detail-type, orderId, eventId) of an EventBridge event body, without keeping anything else."""
    try:
        event = json.loads(body)
        detail = event.get("detail") or {}
        return (
            event.get("detail-type"),
            (detail.get("data") or {}).get("orderId"),
            (detail.get("metadata") or {}).get("eventId"),
        )
    except (ValueError, AttributeError, TypeError):
        return None, None, None


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records`` entry of the event Lambda builds from an SQS message."""
    attrs = message.get("Attributes") or {}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = entry
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            k: attrs[k]
            for k in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "AWSTraceHeader",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
            )
            if k in attrs
        },
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def resolve_handler(spec: str) -> Handler:
    module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


class LocalLambdaService:
    """Polls the mapped queues and invokes the handlers in-process, as the Lambda service would.

    ``handler_overrides`` maps a function name to a callable used instead of the configured handler (the harness
    self-test swaps in a broken handler this way). ``retry_delay_seconds`` is the emulated backoff (see module doc).
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        *,
        handler_overrides: Mapping[str, Handler] | None = None,
        retry_delay_seconds: int = 0,
        idle_sleep_seconds: float = 0.05,
        rediscover_seconds: float | None = None,
        extra_env: Mapping[str, str] | None = None,
        concurrent: bool = False,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.concurrent = concurrent
        self.region = region
        self.handler_overrides = dict(handler_overrides or {})
        self.retry_delay_seconds = retry_delay_seconds
        self.idle_sleep_seconds = idle_sleep_seconds
        self.rediscover_seconds = rediscover_seconds
        self.extra_env = dict(extra_env or {})
        self.mappings: list[EventSourceMapping] = []
        self.audit_queue_url: str | None = None
        self.tracks: dict[str, MessageTrack] = {}
        self.invocations: list[Invocation] = []
        self.errors: list[str] = []
        self._sqs = client("sqs", endpoint_url, region)
        self._lock = threading.RLock()  # guards tracks / invocations
        self._poll_lock = threading.Lock()  # one poll pass at a time
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._thread: threading.Thread | None = None
        self._fanout = 0
        self._last_discovery = 0.0
        self._log_streams: dict[str, str] = {}
        self._handlers: dict[str, Handler] = {}
        self._in_flight: dict[str, int] = {}  # mapping uuid -> invocations running (concurrent mode)
        self._pool: ThreadPoolExecutor | None = None

    # ---- discovery ------------------------------------------------------------------------------------------

    def discover(self) -> list[EventSourceMapping]:
        """(Re)read the SQS mappings and their functions' configuration from the emulator."""
        stack = discover_stack(self.endpoint_url, self.region)
        with self._lock:
            changed = stack.mappings != self.mappings
            self.mappings = stack.mappings
            self.audit_queue_url = stack.audit_queue_url
            self._last_discovery = time.monotonic()
        for m in stack.mappings if changed else []:
            LOG.info(
                "mapping %s: %s -> %s (handler %s, batch %d, %s, maxReceiveCount %s, timeout %ds)",
                m.uuid[:8],
                m.queue.arn.rsplit(":", 1)[1],
                m.function.name,
                m.function.handler,
                m.batch_size,
                "enabled" if m.enabled else "disabled",
                m.queue.max_receive_count,
                m.function.timeout_seconds,
            )
        return stack.mappings

    # ---- one pass -------------------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Receive one batch per enabled mapping and invoke its function; return how many messages were handled."""
        with self._poll_lock:
            if self.rediscover_seconds is not None and (
                not self.mappings or time.monotonic() - self._last_discovery > self.rediscover_seconds
            ):
                try:
                    self.discover()
                except Exception as exc:  # emulator restarting, stack being applied: try again later
                    LOG.warning("discovery failed: %s", redact(str(exc)))
            handled = 0
            for mapping in list(self.mappings):
                if not mapping.enabled:
                    continue
                try:
                    handled += self._dispatch_mapping(mapping) if self.concurrent else self._poll_mapping(mapping)
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    LOG.warning("polling %s failed (%s); rediscovering", mapping.function.name, code)
                    self._last_discovery = 0.0
            return handled

    def _receive(self, mapping: EventSourceMapping) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            response = self._sqs.receive_message(
                QueueUrl=mapping.queue.url,
                MaxNumberOfMessages=min(10, mapping.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            got = response.get("Messages") or []
            if not got:
                break
            messages.extend(got)
        return messages

    def _poll_mapping(self, mapping: EventSourceMapping) -> int:
        messages = self._receive(mapping)
        if not messages:
            return 0
        self._track_received(mapping, messages)
        fanout = self._fanout
        if fanout > 1 and len(messages) > 1:
            batches = [[m] for m in messages]
            barrier = threading.Barrier(min(len(batches), fanout))
            with ThreadPoolExecutor(max_workers=len(batches)) as pool:
                list(pool.map(lambda b: self._invoke_batch(mapping, b, barrier), batches))
        else:
            self._invoke_batch(mapping, messages, None)
        return len(messages)

    def concurrency_limit(self, mapping: EventSourceMapping) -> int:
        """Invocations a mapping may have running at once: its ``MaximumConcurrency``, else Lambda's first five."""
        return mapping.maximum_concurrency or DEFAULT_SQS_CONCURRENCY

    def _dispatch_mapping(self, mapping: EventSourceMapping) -> int:
        """Concurrent mode: start invocations until the mapping has its limit running or its queue is empty.

        As Lambda's SQS pollers do, each received batch goes to its own invocation, up to the mapping's maximum
        concurrency at once; the pass does not wait for them, so every mapping keeps its own invocations going.
        """
        started = 0
        limit = self.concurrency_limit(mapping)
        while True:
            with self._lock:
                if self._in_flight.get(mapping.uuid, 0) >= limit:
                    return started
            messages = self._receive(mapping)
            if not messages:
                return started
            self._track_received(mapping, messages)
            with self._lock:
                self._in_flight[mapping.uuid] = self._in_flight.get(mapping.uuid, 0) + 1
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_INVOCATIONS, thread_name_prefix="invoke")
                pool = self._pool
            pool.submit(self._invoke_and_release, mapping, messages)
            started += len(messages)

    def _invoke_and_release(self, mapping: EventSourceMapping, messages: list[dict[str, Any]]) -> None:
        try:
            self._invoke_batch(mapping, messages, None)
        except Exception as exc:  # settle errors (emulator restarting): the messages come back after visibility
            LOG.warning("invocation for %s failed to settle: %s", mapping.function.name, redact(str(exc)))
        finally:
            with self._lock:
                self._in_flight[mapping.uuid] -= 1

    def in_flight(self) -> int:
        """Invocations running now (concurrent mode)."""
        with self._lock:
            return sum(self._in_flight.values())

    def _track_received(self, mapping: EventSourceMapping, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            for message in messages:
                mid = message["MessageId"]
                count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                track = self.tracks.get(mid)
                if track is None:
                    detail_type, order_id, event_id = _summary(message["Body"])
                    track = MessageTrack(mid, mapping.function.name, mapping.queue.arn, detail_type, order_id, event_id)
                    self.tracks[mid] = track
                    if count > 1:
                        LOG.warning(
                            "message %s first seen with receive count %d: something else received it "
                            "(is moto's own ESM invocation patched out? see patch_moto_sqs_esm_invocation)",
                            mid,
                            count,
                        )
                track.deliveries += 1
                track.receive_count = count
                track.state = "in-flight"

    def _handler_for(self, fn: FunctionConfig) -> Handler:
        if fn.name in self.handler_overrides:
            return self.handler_overrides[fn.name]
        handler = self._handlers.get(fn.handler)
        if handler is None:
            handler = resolve_handler(fn.handler)
            self._handlers[fn.handler] = handler
        return handler

    def _environment(self, fn: FunctionConfig) -> dict[str, str]:
        env = dict(fn.environment)
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
                "AWS_LAMBDA_FUNCTION_NAME": fn.name,
                "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": self._log_stream(fn),
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            }
        )
        env.update(self.extra_env)
        return env

    def _log_stream(self, fn: FunctionConfig) -> str:
        if fn.name not in self._log_streams:
            day = datetime.now(UTC).strftime("%Y/%m/%d")
            self._log_streams[fn.name] = f"{day}/[{fn.version}]{uuid.uuid4().hex}"
        return self._log_streams[fn.name]

    def _invoke_batch(
        self, mapping: EventSourceMapping, messages: list[dict[str, Any]], barrier: threading.Barrier | None
    ) -> None:
        fn = mapping.function
        event = {"Records": [sqs_record(m, mapping.queue.arn, self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        context = None
        error: str | None = None
        result: Any = None
        with _ENV_GATE.applied(self._environment(fn)):
            handler = self._handler_for(fn)
            if barrier is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)
            context = LambdaContext(fn, self._log_stream(fn))
            started = time.monotonic()
            LOG.info("START RequestId: %s Function: %s Records: %d", context.aws_request_id, fn.name, len(ids))
            try:
                result = handler(event, context)
            except Exception as exc:
                error = f"{type(exc).__name__}: {redact(str(exc))}"
            duration_ms = (time.monotonic() - started) * 1000
        if error is None and duration_ms > fn.timeout_seconds * 1000:
            error = f"Task timed out after {fn.timeout_seconds:.2f} seconds"
        failed = self._failed_ids(mapping, ids, result, error)
        if error:
            LOG.error("RequestId: %s %s", context.aws_request_id, error)
            with self._lock:
                self.errors.append(f"{fn.name} {context.aws_request_id}: {error}")
        rid = context.aws_request_id
        LOG.info("END RequestId: %s Duration: %.1f ms Failed: %d/%d", rid, duration_ms, len(failed), len(ids))
        self._settle(mapping, messages, failed, context.aws_request_id)
        with self._lock:
            self.invocations.append(
                Invocation(fn.name, context.aws_request_id, tuple(ids), tuple(sorted(failed)), duration_ms, error)
            )

    @staticmethod
    def _failed_ids(mapping: EventSourceMapping, ids: list[str], result: Any, error: str | None) -> set[str]:
        if error is not None:
            return set(ids)
        if not mapping.report_batch_item_failures or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        failed = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
        if any(not isinstance(i, str) or i not in ids for i in failed):
            LOG.error("invalid batchItemFailures %r: the whole batch counts as failed", failures)
            return set(ids)
        return {i for i in failed if isinstance(i, str)}

    def _settle(self, mapping: EventSourceMapping, messages: list[dict[str, Any]], failed: set[str], rid: str) -> None:
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for chunk in _chunks(done, 10):
            self._sqs.delete_message_batch(
                QueueUrl=mapping.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for chunk in _chunks(retry, 10):
            self._sqs.change_message_visibility_batch(
                QueueUrl=mapping.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay_seconds}
                    for i, m in enumerate(chunk)
                ],
            )
        limit = mapping.queue.max_receive_count
        with self._lock:
            for m in messages:
                track = self.tracks[m["MessageId"]]
                track.request_ids.append(rid)
                if m["MessageId"] not in failed:
                    track.state = "succeeded"
                elif limit is not None and track.receive_count >= limit:
                    track.state = "dead-lettered"  # moto moves it to the DLQ on the next receive
                    LOG.warning(
                        "message %s (%s, order %s) exhausted %d receives: redriven to the DLQ",
                        track.message_id,
                        track.detail_type,
                        track.order_id,
                        track.receive_count,
                    )
                else:
                    track.state = "retrying"

    # ---- loops ----------------------------------------------------------------------------------------------

    def queues_empty(self) -> bool:
        for mapping in self.mappings:
            attrs = self._sqs.get_queue_attributes(
                QueueUrl=mapping.queue.url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            if any(int(v) for v in attrs.values()):
                return False
        return True

    def run_until_idle(self, timeout: float = 60.0) -> int:
        """Poll in the calling thread until every mapped queue is empty; raise TimeoutError at the deadline."""
        if not self.mappings:
            self.discover()
        deadline = time.monotonic() + timeout
        handled = 0
        while True:
            n = self.poll_once()
            handled += n
            if n == 0 and not self.in_flight() and self.queues_empty():
                return handled
            if time.monotonic() > deadline:
                raise TimeoutError(f"queues not idle after {timeout:.0f}s ({handled} messages handled)")
            if n == 0:
                time.sleep(self.idle_sleep_seconds)

    def start(self) -> LocalLambdaService:
        """Run the poll loop in a background daemon thread."""
        if self._thread is not None:
            return self
        if not self.mappings:
            self.discover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="local-lambda-service", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._resume.wait()
            try:
                n = self.poll_once()
            except Exception as exc:  # keep serving: the emulator may be restarting
                LOG.warning("poll failed: %s", redact(str(exc)))
                n = 0
            if n == 0:
                self._stop.wait(self.idle_sleep_seconds)

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)  # running invocations finish and settle their messages
        _ENV_GATE.restore()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop polling (after the pass in progress) for the duration of the block."""
        self._resume.clear()
        with self._poll_lock:
            pass
        try:
            yield
        finally:
            self._resume.set()

    @contextlib.contextmanager
    def concurrent_deliveries(self, parallelism: int = 2) -> Iterator[None]:
        """Hand each message of a received batch to its own, simultaneous invocation (several pollers at once)."""
        previous, self._fanout = self._fanout, parallelism
        try:
            yield
        finally:
            self._fanout = previous

    # ---- what happened --------------------------------------------------------------------------------------

    def tracks_for(self, order_id: str) -> list[MessageTrack]:
        with self._lock:
            return [t for t in self.tracks.values() if t.order_id == order_id]

    def wait_settled(self, order_id: str, expected: int, timeout: float = 30.0) -> list[MessageTrack]:
        """Wait until ``expected`` messages for the order were seen and each succeeded or was dead-lettered."""
        deadline = time.monotonic() + timeout
        while True:
            tracks = self.tracks_for(order_id)
            if len(tracks) >= expected and all(t.settled for t in tracks):
                return tracks
            if time.monotonic() > deadline:
                states = ", ".join(f"{t.detail_type}:{t.state}x{t.deliveries}" for t in tracks) or "none seen"
                raise TimeoutError(
                    f"order {order_id}: expected {expected} settled deliveries within {timeout:.0f}s; got {states}"
                )
            time.sleep(0.05)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --------------------------------------------------------------------------------------------------------------
# published events (the audit queue)


@dataclass(frozen=True)
class PublishedEvent:
    event: dict[str, Any]
    violations: tuple[str, ...]

    @property
    def detail_type(self) -> str:
        return str(self.event.get("detail-type"))

    @property
    def data(self) -> dict[str, Any]:
        return (self.event.get("detail") or {}).get("data") or {}

    @property
    def metadata(self) -> dict[str, Any]:
        return (self.event.get("detail") or {}).get("metadata") or {}

    @property
    def order_id(self) -> str | None:
        return self.data.get("orderId")


def _validator() -> Callable[[dict[str, Any]], tuple[str, ...]]:
    contracts = importlib.import_module("novamart_payments.contracts")

    def check(event: dict[str, Any]) -> tuple[str, ...]:
        try:
            contracts.validate_event(event)
        except contracts.ContractViolation as exc:
            pairs = getattr(exc, "violations", None) or [("", str(exc))]
            return tuple(f"{pointer or '/'}: {message}" for pointer, message in pairs)
        return ()

    return check


class AuditTapBound:
    """Keeps the audit queue at most ``max_depth`` messages deep, moving the overflow to a JSON-lines file.

    Under ``make dev`` nobody reads the audit queue, so it would grow with every published event and slow every
    PutEvents down (moto's SendMessage cost grows with depth). A reader that keeps up (``tools/demo.py``, the
    test session's ``AuditLog``) never lets it reach the bound, so nothing it waits for is taken. The overflow
    goes, oldest first, to ``sink`` (rotated to ``<sink>.1`` past ``max_sink_bytes``): published events carry no
    payment-method token (their schemas forbid it), so they may be written out.
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        queue_url: str,
        *,
        max_depth: int = 100,
        sink: Path | None = None,
        max_sink_bytes: int = 5_000_000,
    ) -> None:
        self.queue_url = queue_url
        self.max_depth = max_depth
        self.sink = sink
        self.max_sink_bytes = max_sink_bytes
        self.moved = 0
        self._sqs = client("sqs", endpoint_url, region)

    def depth(self) -> int:
        attrs = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    def enforce(self) -> int:
        """Move what is above the bound to the sink; return how many messages were moved."""
        excess = self.depth() - self.max_depth
        moved = 0
        while excess > moved:
            got = (
                self._sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, excess - moved), WaitTimeSeconds=0
                ).get("Messages")
                or []
            )
            if not got:
                break
            self._write([m["Body"] for m in got])
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
            moved += len(got)
        self.moved += moved
        return moved

    def _write(self, bodies: list[str]) -> None:
        if self.sink is None:
            return
        self.sink.parent.mkdir(parents=True, exist_ok=True)
        if self.sink.exists() and self.sink.stat().st_size > self.max_sink_bytes:
            self.sink.replace(self.sink.with_name(self.sink.name + ".1"))
        with self.sink.open("a", encoding="utf-8") as fh:
            for body in bodies:
                fh.write(body.replace("\n", " ") + "\n")


class AuditLog:
    """Reads every event the service published from the audit queue, validating each against its schema.

    Messages are deleted once read, so one reader owns the queue (the test session, or ``tools/demo.py``).
    """

    def __init__(self, endpoint_url: str, region: str, queue_url: str, *, validate: bool = True) -> None:
        self.queue_url = queue_url
        self.events: list[PublishedEvent] = []
        self._sqs = client("sqs", endpoint_url, region)
        self._check = _validator() if validate else (lambda event: ())
        self._lock = threading.Lock()

    def poll(self) -> int:
        """Drain what is visible on the audit queue now; return how many events were read."""
        read = 0
        with self._lock:
            while True:
                got = (
                    self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                        "Messages"
                    )
                    or []
                )
                if not got:
                    return read
                for message in got:
                    try:
                        event = json.loads(message["Body"])
                        violations = self._check(event)
                    except ValueError as exc:
                        event, violations = {"body": "<not JSON>"}, (f"not JSON: {exc}",)
                    self.events.append(PublishedEvent(event, violations))
                    read += 1
                for chunk in _chunks(got, 10):
                    self._sqs.delete_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                    )

    def for_order(self, order_id: str, detail_type: str | None = None) -> list[PublishedEvent]:
        return [
            e for e in self.events if e.order_id == order_id and (detail_type is None or e.detail_type == detail_type)
        ]

    def wait_for(
        self, predicate: Callable[[list[PublishedEvent]], bool], timeout: float = 30.0, what: str = "events"
    ) -> list[PublishedEvent]:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if predicate(self.events):
                return self.events
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not published within {timeout:.0f}s")
            time.sleep(0.05)

    def wait_for_order(self, order_id: str, detail_types: Iterable[str], timeout: float = 30.0) -> list[PublishedEvent]:
        """Wait until the order has at least one event of each of ``detail_types``."""
        wanted = list(detail_types)

        def ok(_: list[PublishedEvent]) -> bool:
            seen = {e.detail_type for e in self.for_order(order_id)}
            return all(d in seen for d in wanted)

        self.wait_for(ok, timeout, f"{' + '.join(wanted)} for order {order_id}")
        return self.for_order(order_id)


def peek_queue(sqs: Any, url: str, match: Callable[[str], bool], *, remove: bool = False) -> list[dict[str, Any]]:
    """Bodies (parsed JSON) of the messages in ``url`` whose raw body ``match`` es; the others are left in place.

    Reads everything visible (hiding it briefly), deletes the matches if ``remove``, and makes the rest visible
    again at once. Meant for DLQs and other queues nobody else consumes.
    """
    found: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages") or []
        if not got:
            break
        seen.extend(got)
    for message in seen:
        mine = match(message["Body"])
        if mine:
            try:
                found.append(json.loads(message["Body"]))
            except ValueError:
                found.append({"body": "<not JSON>"})
        if mine and remove:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return found


# --------------------------------------------------------------------------------------------------------------
# building and sending trigger events


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trigger_event(
    detail_type: str,
    data: Mapping[str, Any],
    *,
    event_id: str | None = None,
    correlation_id: str | None = None,
    request_id: str | None = None,
    schema_version: str = SCHEMA_VERSION,
) -> dict[str, Any]:
    """A whole EventBridge event (source, detail-type, detail) for a consumed detail-type."""
    source = {
        "inventory.reserved": "novamart.inventory",
        "inventory.reservation_failed": "novamart.inventory",
        "order.ready_for_payment": "novamart.orders",
        "order.cancelled": "novamart.orders",
    }[detail_type]
    metadata: dict[str, Any] = {
        "eventId": event_id or str(uuid.uuid4()),
        "schemaVersion": schema_version,
        "correlationId": correlation_id or f"corr-{uuid.uuid4()}",
        "occurredAt": now_rfc3339(),
    }
    if request_id is not None:
        metadata["requestId"] = request_id
    return {"source": source, "detail-type": detail_type, "detail": {"metadata": metadata, "data": dict(data)}}


def payment_data(order_id: str, minor_units: int, currency: str, token: str, customer_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "customerId": customer_id,
        "amount": {"minorUnits": minor_units, "currency": currency},
        "paymentMethod": {"token": token},
    }


def refund_data(order_id: str, reason: str, amount: tuple[int, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"orderId": order_id, "reason": reason}
    if amount is not None:
        data["amount"] = {"minorUnits": amount[0], "currency": amount[1]}
    return data


def put_entry(event: Mapping[str, Any], bus: str) -> dict[str, Any]:
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "EventBusName": bus,
        **({"Resources": list(event["resources"])} if event.get("resources") else {}),
    }


def put_events(events_client: Any, bus: str, events: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents in chunks of 10; return one result entry per event; raise if any entry failed."""
    results: list[dict[str, Any]] = []
    for chunk in _chunks(list(events), 10):
        response = events_client.put_events(Entries=[put_entry(e, bus) for e in chunk])
        results.extend(response["Entries"])
    failed = [r for r in results if "ErrorCode" in r]
    if failed:
        raise RuntimeError(f"PutEvents rejected {len(failed)} entries: {failed}")
    return results


# --------------------------------------------------------------------------------------------------------------
# tables


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals as int (or float), recursively, so records print and compare naturally."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    return {k: _plain(des.deserialize(v)) for k, v in item.items()}


def records_for_order(ddb: Any, table: str, order_id: str) -> list[dict[str, Any]]:
    """Items of the order through the ``orderId-index`` GSI (eventually consistent, like on AWS)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "orderId-index",
        "KeyConditionExpression": "orderId = :o",
        "ExpressionAttributeValues": {":o": {"S": order_id}},
    }
    while True:
        page = ddb.query(**kwargs)
        items.extend(_deserialize(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_table(ddb: Any, table: str) -> list[dict[str, Any]]:
    return [_deserialize(i) for page in ddb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]


def format_table(rows: list[Mapping[str, Any]], columns: list[str], *, empty: str = "(none)") -> str:
    """A plain-text table: one header, one line per row, columns padded to their widest cell."""
    if not rows:
        return empty
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(), line]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and {"minorUnits", "currency"} <= value.keys():
        return format_money(int(value["minorUnits"]), str(value["currency"]))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def format_money(minor_units: int, currency: str) -> str:
    """``1999 USD`` -> ``19.99 USD``; uses the schemas' exponent table when the package is importable."""
    try:
        exponent = importlib.import_module("novamart_payments.contracts").currency_exponent(currency)
    except Exception:
        exponent = _EXPONENTS.get(currency, 2)
    if exponent == 0:
        return f"{minor_units} {currency}"
    whole, frac = divmod(abs(minor_units), 10**exponent)
    sign = "-" if minor_units < 0 else ""
    return f"{sign}{whole}.{frac:0{exponent}d} {currency}"


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
