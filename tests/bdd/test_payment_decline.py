"""Scenarios of features/payment_decline.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/payment_decline.feature")
