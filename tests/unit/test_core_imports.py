"""The service loads without an AWS SDK or the Stripe SDK (issue 23): it depends on the ports only, and the
composition root plugs the concrete adapters in. Checked in a fresh interpreter, where ``sys.modules`` holds only
what ``import novamart_payments.service`` itself pulled in (this test process has imported boto3 long ago)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDKS = ("boto3", "botocore", "stripe")


def loaded_by(module: str) -> set[str]:
    """The top-level packages among ``SDKS`` that importing ``module`` in a fresh interpreter loads."""
    probe = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(SDKS)!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_service_loads_no_aws_sdk_and_no_stripe() -> None:
    assert loaded_by("novamart_payments.service") == set()


def test_the_probe_sees_an_sdk_when_one_is_loaded() -> None:
    """Not vacuous: the same probe names botocore and boto3 for the DynamoDB adapter, which needs them."""
    assert {"boto3", "botocore"} <= loaded_by("novamart_payments.repository")
