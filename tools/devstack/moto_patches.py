"""Patches that make moto behave as AWS does where the project depends on it (``patch_moto`` applies them all).

DynamoDB isolation: make moto's DynamoDB as atomic as DynamoDB under concurrent requests.

moto 5.2.5's ``TransactWriteItems`` deep-copies the tables it touches, applies the items one by one, and on a
failed condition puts the copies back. Under the threaded server a write that another request made in between
(a concurrent, successful transaction or PutItem) is then erased, and a read in between sees half a
transaction. Real DynamoDB does neither, and the service's guarantees (one refund per order, the refund
ceiling) are proven by concurrency tests against this emulator, so they would fail for the emulator's sake
(seen here: two refunds for one order, ``refundedAmount`` behind the gateway). One lock around the table
operations gives the isolation DynamoDB gives; the emulator's throughput is not what the tests measure.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_OPERATIONS = (
    "put_item",
    "get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "transact_write_items",
    "transact_get_items",
    "batch_get_item",
)


def patch_moto_dynamodb_isolation() -> None:
    """Serialise moto's DynamoDB table operations (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        method = getattr(DynamoDBBackend, name, None)
        if method is None or getattr(method, "_novamart_serialised", False):
            continue
        setattr(DynamoDBBackend, name, _serialised(method))


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    locked._novamart_serialised = True  # type: ignore[attr-defined]
    return locked


def patch_moto_sqs_esm_invocation() -> None:
    """Stop moto from "invoking" Lambda functions behind SQS event-source mappings itself.

    moto 5.2.5, on every SendMessage to a queue with an enabled mapping, receives up to BatchSize visible
    messages and tries to run the function in Docker. Without Docker that fails, the messages become visible
    again, but each of those phantom receives has counted towards ``maxReceiveCount`` — so messages would be
    dead-lettered after a few unrelated sends. The mapping itself stays stored and readable (the stand-in needs
    it); only the in-emulator invocation is switched off. Apply it in the process that runs the moto
    server (``python -m tools.devstack emulator serve`` does; an in-process ``ThreadedMotoServer`` in the test
    session can too). Idempotent.
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


def patch_moto_schedule_rules() -> None:
    """Keep moto from matching every event against a schedule rule.

    moto 5.2.5 loads a rule without an event pattern (a ``rate(...)`` schedule) as a pattern that matches every
    event, so each PutEvents on the default bus is "sent" to the schedule's Lambda target, which moto cannot do:
    the whole PutEvents answers 500 ("Expr not defined for Rule"). On AWS a schedule rule only fires on its
    schedule. The local Lambda service runs schedules itself (``tools.devstack.urls_and_schedules``). Idempotent.
    """
    from moto.events.models import Rule

    if getattr(Rule, "_novamart_schedules_patched", False):
        return
    original = Rule.send_to_targets

    @functools.wraps(original)
    def send_to_targets(self: Any, *args: Any, **kwargs: Any) -> None:
        if self.scheduled_expression and not self.event_pattern.dump():
            return None
        return original(self, *args, **kwargs)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    Rule._novamart_schedules_patched = True  # type: ignore[attr-defined]


def patch_moto_sqs_redrive_policy() -> None:
    """Return a queue's ``RedrivePolicy`` compact, as SQS does.

    moto 5.2.5 re-serialises the stored policy with ``json.dumps`` defaults (a space after every ``:`` and
    ``,``). The AWS provider keeps the string it reads back, so every plan after the first showed an in-place
    update of each queue's ``redrive_policy`` that changed nothing but whitespace, and each re-apply of
    ``make dev`` spent ~40 s "updating" three queues. SQS answers with the compact form Terraform's
    ``jsonencode`` writes. Idempotent.
    """
    from moto.sqs import models as sqs_models

    if getattr(sqs_models.Queue, "_novamart_redrive_patched", False):
        return
    original = sqs_models.Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(self)  # type: ignore[attr-defined]
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    sqs_models.Queue.attributes = property(attributes)  # type: ignore[assignment]
    sqs_models.Queue._novamart_redrive_patched = True  # type: ignore[attr-defined]


def patch_moto() -> None:
    """Every patch above, in the process that serves moto (the dev emulator and the test sessions' servers)."""
    patch_moto_sqs_esm_invocation()
    patch_moto_dynamodb_isolation()
    patch_moto_schedule_rules()
    patch_moto_sqs_redrive_policy()
