"""Shared test support: the session's embedded emulator and the deployed Terraform stack."""
