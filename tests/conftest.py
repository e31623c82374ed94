"""Fixtures shared by every suite.

``moto_endpoint`` (session): an in-process moto server on a free loopback port.
``deployed_stack`` (session): terraform/envs/local applied into it once; the flattened Terraform outputs. The
apply starts with the session's first test (``stack_applied_ahead``) when a collected test needs the stack, and
the suites that never touch the emulator run first (``pytest_collection_modifyitems`` below), so that its ~100 s
of waiting overlaps them.
``local_stripe`` (session): localstripe on a free port behind a fault-injecting proxy.

Every boto3 session made from here on records the IAM requests the handlers' own code makes
(``tests/support/aws_calls.py``); ``tests/zz_iam`` checks the applied roles against them at the end of the run.
"""

import pytest

from tests.support.aws_calls import RECORDER
from tests.support.gateway import local_stripe  # noqa: F401
from tests.support.stack import deployed_stack, moto_endpoint, stack_applied_ahead  # noqa: F401

RECORDER.install()

# Suites that send nothing to the emulator's buses, run while the stack is applied (tests/ports writes only its own
# ``port-`` tables). The rest keep their order (the
# behaviour suite before the suites that publish to the default bus, whose events the stack's rules would queue),
# and tests/zz_iam stays last: it judges every AWS call the run recorded.
AHEAD_OF_THE_STACK = ("unit", "decisions", "ports", "contract", "site", "bindings")


def _rank(item: pytest.Item) -> int:
    parts = item.path.parts
    suite = parts[parts.index("tests") + 1] if "tests" in parts else ""
    if suite in AHEAD_OF_THE_STACK:
        return 0
    return 2 if suite == "zz_iam" else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order within each group is pytest's
