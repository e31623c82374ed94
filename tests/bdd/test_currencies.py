"""Scenarios of features/currencies.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/currencies.feature")
