"""Scenarios of features/radar.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/radar.feature")
