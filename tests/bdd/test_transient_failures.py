"""Scenarios of features/transient_failures.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/transient_failures.feature")
