"""Scenarios of features/refunds.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/refunds.feature")
