"""The Lambda stand-in's SQS side: poll the mapped queues and hand each batch to the function, as Lambda's pollers do.

moto stores Lambda functions and event-source mappings but cannot run code without Docker; ``LocalLambdaService``
plays Lambda's SQS pollers for it, in one implementation used by the behaviour suite (a background thread), the
developer service (``python -m tools.devstack dev``) and the benchmarks. The invocation itself (handler, context,
environment) is ``lambda_runtime.FunctionInvoker``, which other triggers can share; this module decides what to
invoke and settles the messages afterwards, following Lambda's rules: an exception or a timeout fails the whole
batch; with ``ReportBatchItemFailures`` only the listed items fail; successes are deleted; failures become visible
again after the backoff the function set on them (ChangeMessageVisibility, as on AWS; only the messages of a
crashed invocation, which could set nothing, come back after ``retry_delay_seconds``) and moto redrives them to
the DLQ at ``maxReceiveCount``, as SQS does. Semantics in detail, concurrency included: docs/local-dev.md. MiniStack and
LocalStack run the functions themselves: ``aws.stand_in_enabled()`` is false there.

Nothing here logs a message body: bodies carry payment-method tokens. Log lines name detail-type, order id and
event id only, and ``redact()`` masks anything that looks like a token in exception text.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from tools.devstack.aws import LOG, chunks, client, redact
from tools.devstack.lambda_runtime import ENV_GATE, FunctionInvoker, Handler
from tools.devstack.sqs_records import Invocation, MessageTrack, failed_ids, sqs_record, summary
from tools.devstack.stack import EventSourceMapping, FunctionConfig, discover_stack

# Concurrent mode: invocations of a mapping without MaximumConcurrency at once (Lambda starts with five batches),
# and the most invocations of all mappings together.
DEFAULT_SQS_CONCURRENCY = 5
MAX_CONCURRENT_INVOCATIONS = 32


class LocalLambdaService:
    """Polls the mapped queues and invokes the handlers in-process, as the Lambda service would.

    ``handler_overrides`` maps a function name to a callable used instead of the configured handler (the harness
    self-test swaps in a broken handler this way). ``retry_delay_seconds`` applies to crashed invocations only
    (see module doc).
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
        self.retry_delay_seconds = retry_delay_seconds
        self.idle_sleep_seconds = idle_sleep_seconds
        self.rediscover_seconds = rediscover_seconds
        self.mappings: list[EventSourceMapping] = []
        self.audit_queue_url: str | None = None
        self.tracks: dict[str, MessageTrack] = {}
        self.invocations: list[Invocation] = []
        self.errors: list[str] = []
        self.invoker = FunctionInvoker(endpoint_url, region, handler_overrides=handler_overrides, extra_env=extra_env)
        self._sqs = client("sqs", endpoint_url, region)
        self._lock = threading.RLock()  # guards tracks / invocations
        self._poll_lock = threading.Lock()  # one poll pass at a time
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._thread: threading.Thread | None = None
        self._fanout = 0
        self._last_discovery = 0.0
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
                    detail_type, order_id, event_id = summary(message["Body"])
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

    def _function_now(self, mapping: EventSourceMapping) -> FunctionConfig:
        """The mapping's function as last discovered, not the poll pass's snapshot: a batch received after a
        configuration change runs in the new environment, as on Lambda (a stale one failed the majors scenario)."""
        with self._lock:
            return next((m.function for m in self.mappings if m.uuid == mapping.uuid), mapping.function)

    def _invoke_batch(
        self, mapping: EventSourceMapping, messages: list[dict[str, Any]], barrier: threading.Barrier | None
    ) -> None:
        fn = self._function_now(mapping)
        event = {"Records": [sqs_record(m, mapping.queue.arn, self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        outcome = self.invoker.invoke(fn, event, barrier)
        rid, error, duration_ms = outcome.request_id, outcome.error, outcome.duration_ms
        failed = failed_ids(mapping, ids, outcome.result, error)
        if error:
            LOG.error("RequestId: %s %s", rid, error)
            with self._lock:
                self.errors.append(f"{fn.name} {rid}: {error}")
        LOG.info("END RequestId: %s Duration: %.1f ms Failed: %d/%d", rid, duration_ms, len(failed), len(ids))
        # The function set its failed items' backoff only when it answered, and named them validly.
        named = outcome.result.get("batchItemFailures") if isinstance(outcome.result, dict) else None
        reported = {f.get("itemIdentifier") for f in named or [] if isinstance(f, dict)}
        self._settle(mapping, messages, failed, rid, crashed=error is not None or not failed <= reported)
        with self._lock:
            self.invocations.append(Invocation(fn.name, rid, tuple(ids), tuple(sorted(failed)), duration_ms, error))

    def _settle(
        self, mapping: EventSourceMapping, messages: list[dict[str, Any]], failed: set[str], rid: str, *, crashed: bool
    ) -> None:
        """Delete the successes. A failed item is left as the function left it: the function sets its message's
        backoff itself (ChangeMessageVisibility), and Lambda's pollers never touch it, so neither does this.
        Only the messages of an invocation that crashed (it could set nothing) come back after
        ``retry_delay_seconds`` instead of the queue's visibility timeout (docs/local-dev.md)."""
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed] if crashed else []
        for chunk in chunks(done, 10):
            self._sqs.delete_message_batch(
                QueueUrl=mapping.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for chunk in chunks(retry, 10):
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
        ENV_GATE.restore()

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
