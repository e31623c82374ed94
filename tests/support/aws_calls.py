"""Records every AWS request the functions' own code makes, as the IAM requests AWS would authorise.

Why: the emulator does not enforce IAM, so a call the role does not allow (``BatchGetItem`` once) passes every
suite and fails only on AWS. ``install()`` wraps ``boto3.session.Session.__init__`` so that every boto3 session
created afterwards, whoever creates it (``novamart_payments.clients``, Powertools Parameters, a future adapter),
carries two botocore event hooks:

* ``provide-client-params``: keeps the caller's API parameters in the per-call ``context`` dict;
* ``before-call``: with the region from the request signer, turns the call into IAM requests (action, resource,
  condition keys) and records them once, with the function that made them.

Only calls made while a handler runs are the code's own (a frame of ``novamart_payments.handlers``). The function
is the handler module on the stack (``handlers/payment.py`` or ``handlers/refund.py``); a call made by the shared
batch plumbing outside either (e.g. building a client or reading a secret at cold start) is ``shared``: both
functions make it. Test helpers, the local Lambda service and Terraform never run inside a handler, so they are
not recorded.

A resource is kept by name plus the environment variable that named it (``PAYMENT_TABLE_NAME``,
``STRIPE_SECRET_ID`` ...), so calls
made against the integration suite's own tables can be checked against the deployed stack's tables: the checker
puts the deployed function's value of that variable in its place.

Turning a call into IAM requests follows the services' authorisation references: DynamoDB transactions are
authorised per item as ``PutItem`` / ``UpdateItem`` / ``DeleteItem`` / ``ConditionCheckItem``; batch calls per
table; ``PutEvents`` per entry with ``events:source`` and ``events:detail-type``. An operation without a rule here
is recorded as unknown, and the IAM check fails naming it, so a new kind of call is never silently allowed.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

UNKNOWN = "unknown"
SHARED = "shared"
_HANDLER_MODULES = {
    "novamart_payments.handlers.payment": "payment",
    "novamart_payments.handlers.refund": "refund",
    "novamart_payments.handlers.webhooks": "webhooks",
    "novamart_payments.handlers.reconcile": "reconciler",
}
_PACKAGE_HANDLERS = "novamart_payments.handlers"
_PARAMS_KEY = "iam_recorder_api_params"
#: Stands for "the queue that delivered the record" in a ResourceRef (no environment variable names it).
SOURCE_QUEUE = "(event source queue)"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A resource as the code named it: ``kind`` (``table``, ``index``, ``event-bus``, ``secret``), the name
    (or ARN) it passed, the environment variable whose value that was (None when hard-coded), and for an index
    the index name."""

    kind: str
    name: str
    env_var: str | None = None
    index: str | None = None


@dataclass(frozen=True, slots=True)
class IamRequest:
    """One authorisation AWS makes for a call: ``function`` (payment / refund / shared) asks for ``action`` on
    ``resource`` with the condition keys ``conditions`` (sorted (key, value) pairs)."""

    function: str
    action: str
    resource: ResourceRef | None
    region: str
    conditions: tuple[tuple[str, str], ...] = ()
    operation: str = ""  # the API operation it came from, for messages


class Recorder:
    """The session's record of IAM requests (thread-safe: the local Lambda service invokes from threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: set[IamRequest] = set()
        self._installed = False

    def install(self) -> None:
        """Hook every boto3 session created from now on (idempotent)."""
        if self._installed:
            return
        original = boto3.session.Session.__init__
        recorder = self

        @functools.wraps(original)
        def init(session: boto3.session.Session, *args: Any, **kwargs: Any) -> None:
            original(session, *args, **kwargs)
            session.events.register("provide-client-params", _keep_params)
            session.events.register("before-call", recorder._before_call)

        boto3.session.Session.__init__ = init  # type: ignore[method-assign]
        boto3.DEFAULT_SESSION = None  # a default session made before install would not be hooked
        self._installed = True

    def requests(self) -> set[IamRequest]:
        with self._lock:
            return set(self._requests)

    def forget(self, requests: set[IamRequest]) -> None:
        """Drop requests a test made on purpose (e.g. a call the role must not allow)."""
        with self._lock:
            self._requests -= requests

    def _before_call(self, model: Any, context: Mapping[str, Any], request_signer: Any = None, **_: Any) -> None:
        function = _calling_function()
        if function is None:
            return
        params = dict(context.get(_PARAMS_KEY) or {})
        region = getattr(request_signer, "region_name", None) or os.environ.get("AWS_REGION", "")
        prefix = model.service_model.signing_name
        found = set(iam_requests(function, prefix, model.name, params, region))
        with self._lock:
            self._requests |= found


RECORDER = Recorder()


def _keep_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS_KEY] = dict(params)


def _calling_function() -> str | None:
    """payment / refund / shared while a handler runs in this thread, None otherwise."""
    frame = sys._getframe(1)
    inside = False
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module in _HANDLER_MODULES:
            return _HANDLER_MODULES[module]
        if module.startswith(_PACKAGE_HANDLERS):
            inside = True
        frame = frame.f_back  # type: ignore[assignment]
    return SHARED if inside else None


def _named(kind: str, value: str, index: str | None = None) -> ResourceRef:
    # Only configuration variables that name resources (``*_NAME`` / ``*_ARN`` / ``*_ID``, as STRIPE_SECRET_ID),
    # never the AWS_* set.
    named_by = sorted(k for k, v in os.environ.items() if v == value and k.endswith(("_NAME", "_ARN", "_ID")))
    env_var = next((k for k in named_by if not k.startswith("AWS_")), None)
    return ResourceRef(kind, value, env_var, index)


def iam_requests(
    function: str, prefix: str, operation: str, params: Mapping[str, Any], region: str
) -> Iterator[IamRequest]:
    """The IAM requests one API call makes (see the module docstring for the rules)."""

    def req(action: str, resource: ResourceRef | None, conditions: Mapping[str, str] | None = None) -> IamRequest:
        keys = tuple(sorted((conditions or {}).items()))
        return IamRequest(function, f"{prefix}:{action}", resource, region, keys, operation)

    if prefix == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            for table in params.get("RequestItems", {}):
                yield req(operation, _named("table", table))
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            per_item = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
                "Get": "GetItem",
            }
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    yield req(per_item[kind], _named("table", body["TableName"]))
        elif "TableName" in params:
            index = params.get("IndexName")
            yield req(operation, _named("index" if index else "table", params["TableName"], index))
        else:
            yield req(UNKNOWN + ":" + operation, None)
    elif prefix == "events" and operation == "PutEvents":
        for entry in params.get("Entries", []):
            bus = _named("event-bus", entry.get("EventBusName") or "default")
            conditions = {"events:source": entry.get("Source", ""), "events:detail-type": entry.get("DetailType", "")}
            yield req(operation, bus, conditions)
    elif prefix == "ssm" and operation == "GetParameter":  # the risk rules, through Powertools Parameters
        yield req(operation, _named("parameter", params["Name"]))
    elif prefix == "secretsmanager" and operation in ("GetSecretValue", "DescribeSecret"):
        yield req(operation, _named("secret", params["SecretId"]))
    elif prefix == "sqs" and operation in ("ChangeMessageVisibility", "SendMessage"):
        # The code names only the queue that delivered the failed record (its eventSourceARN): the function's own
        # source queue, whatever the suite's stand-in called it; the checker puts the deployed queue in its place.
        name = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
        yield req(operation, ResourceRef("queue", name, SOURCE_QUEUE))
    else:
        yield req(UNKNOWN + ":" + operation, None)
