#!/usr/bin/env python3
"""`make package-check`: prove build/lambda.zip itself runs on the Lambda runtime's Python (3.12).

The test suites import the handlers from the source tree on this machine's Python 3.11; what AWS runs is the
zip, with wheels built for python3.12 on manylinux. This unpacks the zip into a fresh Python 3.12 virtualenv
that has only what the managed runtime provides (boto3) plus moto for an emulator, and sends one payment, one
refund and one invalid event through the packaged handlers.

Outer mode (default) prepares the interpreter and runs this same file with ``--inner`` inside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = "3.12"


def find_python() -> list[str]:
    """The python3.12 command: $LAMBDA_PYTHON, python3.12 on PATH, or pyenv's 3.12.x."""
    candidates = [os.environ["LAMBDA_PYTHON"]] if os.environ.get("LAMBDA_PYTHON") else ["python3.12"]
    for cmd in candidates:
        if subprocess.run([cmd, "-c", "pass"], capture_output=True).returncode == 0:
            return [cmd]
    if shutil.which("pyenv"):
        versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for version in versions:
            if version.startswith(RUNTIME + "."):
                prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True).stdout.strip()
                return [str(Path(prefix) / "bin" / "python3")]
    raise SystemExit(
        f"package-check: no Python {RUNTIME} found (the Lambda runtime's version); install it or set LAMBDA_PYTHON"
    )


def outer(zip_path: Path, work: Path) -> int:
    if not zip_path.is_file():
        raise SystemExit(f"package-check: {zip_path} is missing; run `make package`")
    venv = work / "venv"
    stamp = venv / ".stamp"
    if not stamp.exists():
        print(f">> creating a Python {RUNTIME} virtualenv with boto3 (as the runtime has) and moto")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([*find_python(), "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "boto3", "moto[server]==5.2.5"], check=True
        )
        stamp.touch()
    pkg = work / "pkg"
    shutil.rmtree(pkg, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(pkg)
    print(f">> running the packaged handlers from {zip_path} on Python {RUNTIME}")
    done = subprocess.run([str(venv / "bin" / "python"), __file__, "--inner", str(pkg)], cwd=work)
    return done.returncode


def inner(pkg: Path) -> int:
    sys.path.insert(0, str(pkg))  # the zip's root, as Lambda puts it on sys.path
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_REGION="us-east-2",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        PAYMENT_TABLE_NAME="payments",
        REFUND_TABLE_NAME="refunds",
        EVENT_BUS_NAME="default",
    )
    try:
        ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-2")
        for table, key in (("payments", "paymentId"), ("refunds", "refundId")):
            ddb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            )
        import novamart_payments
        from novamart_payments.handlers.payment import handler as payment
        from novamart_payments.handlers.refund import handler as refund

        if not Path(novamart_payments.__file__).is_relative_to(pkg):
            print(f"FAIL handlers imported from {novamart_payments.__file__}, not from the zip")
            return 1
        paid = json.loads((ROOT / "events" / "order-placed.json").read_text())
        cancelled = json.loads((ROOT / "events" / "order-cancelled.json").read_text())
        invalid = json.loads(json.dumps(paid))
        invalid["detail"]["data"]["orderId"] = "ord-invalid"
        invalid["detail"]["data"]["amount"]["minorUnits"] = 0
        checks = [
            ("payment", payment(_batch(paid), _Context()), 0),
            ("refund", refund(_batch(cancelled), _Context()), 0),
            ("invalid event rejected", payment(_batch(invalid), _Context()), 1),
        ]
        item = ddb.scan(TableName="payments")["Items"]
        statuses = sorted(i["status"]["S"] for i in item)
        failed = 0
        for name, result, expected_failures in checks:
            ok = len(result["batchItemFailures"]) == expected_failures
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {name}: {result}")
        ok = statuses == ["SUCCEEDED"]
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} payments table holds {statuses}")
        print(f">> Python {sys.version.split()[0]}: {'all checks passed' if not failed else f'{failed} failed'}")
        return 1 if failed else 0
    finally:
        server.stop()


def _batch(event: dict[str, object]) -> dict[str, object]:
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "package-check",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:000000000000:package-check",
        "awsRegion": "us-east-2",
    }
    return {"Records": [record]}


class _Context:
    aws_request_id = str(uuid.uuid4())
    function_name = "package-check"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-2:000000000000:function:package-check"

    def get_remaining_time_in_millis(self) -> int:
        return 210_000  # the functions' Lambda timeout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=ROOT / "build" / "lambda.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "py312")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return inner(args.inner)
    return outer(args.zip.resolve(), args.work.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
