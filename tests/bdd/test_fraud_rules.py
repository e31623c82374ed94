"""Scenarios of features/fraud_rules.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/fraud_rules.feature")
