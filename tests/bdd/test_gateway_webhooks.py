"""Scenarios of features/gateway_webhooks.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/gateway_webhooks.feature")
