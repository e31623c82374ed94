"""Scenarios of features/published_event_contracts.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/published_event_contracts.feature")
