"""Scenarios of features/successful_payment.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/successful_payment.feature")
