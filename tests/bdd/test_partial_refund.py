"""Scenarios of features/partial_refund.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/partial_refund.feature")
