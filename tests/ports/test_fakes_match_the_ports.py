"""The fakes offer exactly what the ports declare, with the same signatures, so a decision test cannot pass on a
method the service's real adapters lack (or miss one the service calls). mypy does not check tests/, hence this."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from tests.support.memory_publisher import MemoryPublisher
from tests.support.memory_repository import MemoryRepository
from tests.support.ports_under_test import DynamoRepository, EventPublisher, PaymentRepository


def port_methods(port: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(port).items()
        if callable(member) and not name.startswith("_")
    }


def parameters(signature: inspect.Signature) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    ("port", "implementation"),
    [(PaymentRepository, MemoryRepository), (PaymentRepository, DynamoRepository), (EventPublisher, MemoryPublisher)],
    ids=["memory-repository", "dynamodb-repository", "memory-publisher"],
)
def test_every_port_method_is_implemented_with_its_signature(port: type, implementation: type) -> None:
    declared = port_methods(port)
    assert declared, f"{port.__name__} declares no methods: the check would pass vacuously"
    for name, signature in declared.items():
        offered = getattr(implementation, name, None)
        assert callable(offered), f"{implementation.__name__} lacks {port.__name__}.{name}"
        assert parameters(inspect.signature(offered)) == parameters(signature), (
            f"{implementation.__name__}.{name}{inspect.signature(offered)} differs from the port's {signature}"
        )
