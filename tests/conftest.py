"""Fixtures shared by every suite.

``moto_endpoint`` (session): an in-process moto server on a free loopback port.
``deployed_stack`` (session): terraform/envs/local applied into it once; the flattened Terraform outputs.
``local_stripe`` (session): localstripe on a free port behind a fault-injecting proxy.

Every boto3 session made from here on records the IAM requests the handlers' own code makes
(``tests/support/aws_calls.py``); ``tests/zz_iam`` checks the applied roles against them at the end of the run.
"""

from tests.support.aws_calls import RECORDER
from tests.support.gateway import local_stripe  # noqa: F401
from tests.support.stack import deployed_stack, moto_endpoint  # noqa: F401

RECORDER.install()
