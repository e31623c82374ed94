"""Scenarios of features/three_d_secure.feature (steps in tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("../../features/three_d_secure.feature")
