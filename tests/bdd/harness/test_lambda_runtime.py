"""The stand-in's runtime gives each function what a container built from its own environment would hold.

All functions run in one process. A function whose configuration was updated (AWS starts new execution environments
then) or another function must never run with the service built from a different environment: the bdd scenario
that ends a deprecation window on the mapped functions went red when the webhook function, which keeps the old
window, ran in between and its service (publisher windows included) was reused by the refund function.
"""

from __future__ import annotations

import copy
import json

import pytest
from novamart_payments import composition
from novamart_payments.majors import terraform_table

from tools.devstack.lambda_runtime import ENV_GATE

pytestmark = pytest.mark.harness

BASE = {
    "PAYMENT_TABLE_NAME": "payments-t",
    "REFUND_TABLE_NAME": "refunds-t",
    "EVENT_BUS_NAME": "bus-t",
    "GATEWAY_MODE": "simulated",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_a_function_never_runs_with_the_service_built_from_another_environment() -> None:
    in_window = terraform_table()
    ended = copy.deepcopy(in_window)
    ended["refund.failed"]["deprecated"]["1"] = "2000-01-01"
    webhook = dict(BASE, AWS_LAMBDA_FUNCTION_NAME="webhooks", EVENT_MAJORS=json.dumps(in_window))
    refund = dict(BASE, AWS_LAMBDA_FUNCTION_NAME="refund", EVENT_MAJORS=json.dumps(ended))
    try:
        with ENV_GATE.applied(webhook):
            built_for_webhook = composition.service()
        with ENV_GATE.applied(refund):
            built_for_refund = composition.service()
        assert built_for_refund is not built_for_webhook
        assert str(built_for_refund.publisher._windows["refund.failed"][1]) == "2000-01-01"
    finally:
        ENV_GATE.restore()
        composition.service.cache_clear()
