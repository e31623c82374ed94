"""The repository port under contract: the in-memory fake and the DynamoDB adapter, side by side.

``repo`` is parametrized over both, so every contract test runs against each: the DynamoDB ``Repository`` on the
session's moto server (tables made as Terraform makes them, by ``tests/support/service_aws.create_tables``, under a
``port-`` prefix) and ``MemoryRepository``. Why the session's moto server and not ``moto.mock_aws``: moto keeps
one state per process, and ``mock_aws`` resets all of it when it starts, which would wipe the stack that
``make test`` applies into the same process's server while this suite runs.

``Subject`` also reads what a record does not carry (the Radar review notes), the one place the two differ in how.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.support.memory_repository import MemoryRepository
from tests.support.ports_under_test import DynamoRepository
from tests.support.service_aws import REGION, create_tables

PAYMENTS, REFUNDS = "port-payments", "port-refunds"


@dataclass
class Subject:
    """One implementation of the repository port, and how to read its review notes."""

    name: str
    repo: Any
    raw: Any = None  # the DynamoDB client, for the adapter

    def reviews(self, payment_id: str) -> set[str]:
        if isinstance(self.repo, MemoryRepository):
            return set(self.repo.reviews(payment_id))
        item = self.raw.get_item(TableName=PAYMENTS, Key={"paymentId": {"S": payment_id}}, ConsistentRead=True)
        return set(item.get("Item", {}).get("radarReviews", {}).get("SS", []))


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> Any:
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    create_tables(client, PAYMENTS, REFUNDS)
    return client


@pytest.fixture(params=["memory", "dynamodb"])
def subject(request: pytest.FixtureRequest) -> Subject:
    if request.param == "memory":
        return Subject("memory", MemoryRepository())
    client = request.getfixturevalue("dynamodb")
    return Subject("dynamodb", DynamoRepository(PAYMENTS, REFUNDS, client=client), client)


@pytest.fixture
def repo(subject: Subject) -> Any:
    return subject.repo


@pytest.fixture
def both(dynamodb: Any) -> tuple[Any, Any]:
    """The fake and the adapter together, for the tests that compare their answers field by field."""
    return MemoryRepository(), DynamoRepository(PAYMENTS, REFUNDS, client=dynamodb)


@pytest.fixture(params=["memory", "dynamodb"])
def empty_repo(request: pytest.FixtureRequest) -> Any:
    """A repository with nothing in it yet (for the DynamoDB adapter: tables of its own, made for the test)."""
    if request.param == "memory":
        return MemoryRepository()
    client = request.getfixturevalue("dynamodb")
    suffix = uuid.uuid4().hex[:8]
    create_tables(client, f"{PAYMENTS}-{suffix}", f"{REFUNDS}-{suffix}")
    return DynamoRepository(f"{PAYMENTS}-{suffix}", f"{REFUNDS}-{suffix}", client=client)
