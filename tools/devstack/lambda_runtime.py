"""The Lambda runtime as the stand-in plays it: resolve a function's handler and invoke it in-process.

``FunctionInvoker.invoke(fn, event)`` runs one invocation the way Lambda's Python runtime would, whatever the
trigger: a realistic context (a fresh request id per invocation, remaining time counted down from the configured
timeout, function name/ARN/version/memory, log group and stream), and while the handler runs the process
environment holds the function's variables plus ``AWS_ENDPOINT_URL`` and the region
(the container state built from it, ``novamart_payments.config.get_config``, the cached clients and the
service built from them, is reset when that changes). An exception or a
run longer than the configured timeout is the invocation's error. Triggers live elsewhere: the SQS event-source
mapping poller is ``lambda_service``; another trigger (a function URL, a scheduled rule) would call ``invoke`` too.

Isolation between functions is not emulated: both run in this process, like one warm container each; since the
process environment holds one function's variables at a time, an invocation of the other function waits until
the running ones are done. Exception text is passed through ``redact()`` (it may quote a payment-method token).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tools.devstack.aws import LOG, redact
from tools.devstack.stack import FunctionConfig

Handler = Callable[[dict[str, Any], Any], Any]


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


# What a container builds from its environment and keeps while warm: the configuration, the AWS clients, and
# everything built from them (the service with its publisher's deprecation windows, the gateway's secret reader,
# the webhook function's signing secret and handled-event log). All functions run in this one process, so when the
# environment changes (another function, or a function whose configuration was updated: AWS starts new execution
# environments then) all of it goes, or one function would run with what was built from another's configuration.
_CONTAINER_STATE = (
    ("novamart_payments.config", "get_config"),
    ("novamart_payments.clients", "reset"),
    ("novamart_payments.composition", "service"),
    ("novamart_payments.gateway.stripe_secrets", "_secrets_provider"),
    ("novamart_payments.handlers.webhooks", "_signing_secret"),
    ("novamart_payments.handlers.webhooks", "_log"),
)


def _reset_package_caches() -> None:
    for module, attr in _CONTAINER_STATE:
        if module not in sys.modules:
            continue  # never imported: nothing built from it yet (and importing it here could need the SDK)
        obj = getattr(sys.modules[module], attr, None)
        if obj is None:
            continue
        if hasattr(obj, "cache_clear"):
            obj.cache_clear()
        else:
            obj()


ENV_GATE = _EnvGate()  # one per process: os.environ is process-wide


def resolve_handler(spec: str) -> Handler:
    module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class InvokeOutcome:
    """One invocation's result: the handler's return value, or the error Lambda would report."""

    request_id: str
    result: Any
    error: str | None
    duration_ms: float


class FunctionInvoker:
    """Invokes the deployed functions in-process, each with its own environment, context and log stream.

    ``handler_overrides`` maps a function name to a callable used instead of the configured handler (the harness
    self-test swaps in a broken handler this way); ``extra_env`` is added to every function's environment.
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        *,
        handler_overrides: Mapping[str, Handler] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.handler_overrides = dict(handler_overrides or {})
        self.extra_env = dict(extra_env or {})
        self._log_streams: dict[str, str] = {}
        self._handlers: dict[str, Handler] = {}

    def handler_for(self, fn: FunctionConfig) -> Handler:
        if fn.name in self.handler_overrides:
            return self.handler_overrides[fn.name]
        handler = self._handlers.get(fn.handler)
        if handler is None:
            handler = resolve_handler(fn.handler)
            self._handlers[fn.handler] = handler
        return handler

    def environment(self, fn: FunctionConfig) -> dict[str, str]:
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
                "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream(fn),
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            }
        )
        env.update(self.extra_env)
        return env

    def log_stream(self, fn: FunctionConfig) -> str:
        stream = self._log_streams.get(fn.name)
        if stream is None:
            # setdefault, not a check then a store: two first invocations racing here would otherwise get two
            # streams, so two environments, and the gate would run them one after the other (a flaky
            # "concurrent deliveries run simultaneously").
            day = datetime.now(UTC).strftime("%Y/%m/%d")
            stream = self._log_streams.setdefault(fn.name, f"{day}/[{fn.version}]{uuid.uuid4().hex}")
        return stream

    def invoke(
        self, fn: FunctionConfig, event: dict[str, Any], barrier: threading.Barrier | None = None
    ) -> InvokeOutcome:
        """Run ``fn``'s handler on ``event``; with ``barrier``, start together with the invocations sharing it."""
        error: str | None = None
        result: Any = None
        with ENV_GATE.applied(self.environment(fn)):
            handler = self.handler_for(fn)
            if barrier is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)
            context = LambdaContext(fn, self.log_stream(fn))
            started = time.monotonic()
            records = len(event.get("Records") or ())
            LOG.info("START RequestId: %s Function: %s Records: %d", context.aws_request_id, fn.name, records)
            try:
                result = handler(event, context)
            except Exception as exc:
                error = f"{type(exc).__name__}: {redact(str(exc))}"
            duration_ms = (time.monotonic() - started) * 1000
        if error is None and duration_ms > fn.timeout_seconds * 1000:
            error = f"Task timed out after {fn.timeout_seconds:.2f} seconds"
        return InvokeOutcome(context.aws_request_id, result, error, duration_ms)
