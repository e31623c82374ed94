"""Fixtures shared by every suite.

``moto_endpoint`` (session): an in-process moto server on a free loopback port.
``deployed_stack`` (session): terraform/envs/local applied into it once; the flattened Terraform outputs.
``local_stripe`` (session): localstripe on a free port behind a fault-injecting proxy.
"""

from tests.support.gateway import local_stripe  # noqa: F401
from tests.support.stack import deployed_stack, moto_endpoint  # noqa: F401
