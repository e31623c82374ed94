"""The suite's own guard: a decision test that opens a connection fails (tests/decisions/conftest.py)."""

from __future__ import annotations

import socket
import urllib.request

import boto3
import pytest

from tests.support.ports_under_test import DynamoRepository


def test_a_connection_from_a_decision_test_fails_it(no_network: list[str]) -> None:
    with pytest.raises(AssertionError, match="must need no emulator"):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)
    with socket.socket() as sock, pytest.raises(AssertionError, match="must need no emulator"):
        sock.connect_ex(("127.0.0.1", 9))
    assert len(no_network) == 2
    no_network.clear()  # seen: the guard would otherwise fail this test at teardown


def test_the_dynamodb_adapter_cannot_be_used_here(no_network: list[str]) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-2",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.raises(Exception, match="must need no emulator"):  # botocore wraps it
        DynamoRepository("payments", "refunds", client=client).get_payment("p-1")
    assert no_network  # and the guard saw it, even if botocore's caller had swallowed the error
    no_network.clear()
