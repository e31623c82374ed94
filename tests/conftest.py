"""Fixtures shared by every suite.

``moto_endpoint`` (session): an in-process moto server on a free loopback port.
``deployed_stack`` (session): terraform/envs/local applied into it once; the flattened Terraform outputs. The
apply starts with the session's first test (``stack_applied_ahead``) when a collected test needs the stack, and
the suites that never touch the emulator run first (``pytest_collection_modifyitems`` below, after
``tests/support/run_order.py``), so that its ~100 s of waiting overlaps them.
``local_stripe`` (session): localstripe on a free port behind a fault-injecting proxy.

Every boto3 session made from here on records the IAM requests the handlers' own code makes
(``tests/support/aws_calls.py``); ``tests/iam_policies`` checks the applied roles against them at the end of the run.
"""

import pytest

from tests.support.aws_calls import RECORDER
from tests.support.gateway import local_stripe  # noqa: F401
from tests.support.run_order import run_order
from tests.support.stack import deployed_stack, moto_endpoint, stack_applied_ahead  # noqa: F401

RECORDER.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The suites ahead of the stack first, the IAM check last, the leak scan last in its suite (run_order.py)."""
    items[:] = run_order(items)
