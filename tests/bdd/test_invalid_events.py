"""Scenarios of features/invalid_events.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/invalid_events.feature")
