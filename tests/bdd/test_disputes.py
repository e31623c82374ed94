"""Scenarios of features/disputes.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/disputes.feature")
