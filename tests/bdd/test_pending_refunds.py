"""Scenarios of features/pending_refunds.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/pending_refunds.feature")
