"""Scenarios of features/reconciliation.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/reconciliation.feature")
