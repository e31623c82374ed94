"""Make moto's DynamoDB as atomic as DynamoDB under concurrent requests.

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
