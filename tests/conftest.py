"""Fixtures shared by every suite.

``moto_endpoint`` (session): an in-process moto server on a free loopback port.
``deployed_stack`` (session): terraform/envs/local applied into it once; the flattened Terraform outputs.
"""

from tests.support.stack import deployed_stack, moto_endpoint  # noqa: F401
