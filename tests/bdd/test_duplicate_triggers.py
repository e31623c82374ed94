"""Scenarios of features/duplicate_triggers.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/duplicate_triggers.feature")
