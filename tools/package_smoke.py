#!/usr/bin/env python3
"""`make package-check`: prove build/lambda.zip itself runs on the Lambda runtime's Python (3.12).

The test suites import the handlers from the source tree on this machine's Python 3.11; what AWS runs is the
zip, with wheels built for python3.12 on manylinux, trimmed of what the runtime provides. This unpacks the zip
and runs it with a Python 3.12 virtualenv that holds only what the managed runtime provides (boto3 and its
dependencies), so a module the zip lacks fails here as it would on Lambda. The emulator (moto server) runs in
a process of its own from the development environment, so its dependencies cannot hide a missing one.

Checks, each printed PASS/FAIL:
- every valid and invalid schema example gets the same verdict (and the same violation pointers) from the
  zip's validator as from the sources';
- one payment, one refund and one invalid event through the packaged handlers, with the records they leave;
- everything the handlers imported came from the zip or the runtime's boto3 stack, each module of the zip
  with its Python 3.12 ``.pyc``; the stripe SDK the zip ships imports too;
- in a second Python 3.12 process, the same handlers with GATEWAY_MODE=stripe against localstripe (started as
  tools/devstack/stripe_local.py starts it): one payment, one refund, and one webhook localstripe signed and
  delivered, through the webhook function; everything loaded again from the zip, the runtime or the stdlib only
  (tools/package_smoke_stripe.py). This is what proves the stripe SDK the zip ships works on the runtime.

Outer mode (default) prepares the interpreter and the emulator and runs this same file with ``--inner``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _folder in (HERE, ROOT):  # the inner runs are `python -I`: no script folder on sys.path
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))  # after the zip and the runtime: nothing of theirs is shadowed
from package_smoke_stripe import WEBHOOK_SECRET, Context, create_tables, stripe_checks  # noqa: E402

from tools.devstack.sqs_records import sqs_batch as batch  # noqa: E402

# The check's own modules, besides tools/package_smoke*.py: the SQS record builder (standard library only).
OWN_MODULES = {ROOT / "tools" / "devstack" / "__init__.py", ROOT / "tools" / "devstack" / "sqs_records.py"}
EXAMPLES = ROOT / "schemas" / "examples"
# What the Lambda python3.12 runtime has besides the standard library.
RUNTIME_PACKAGES = ("boto3",)


def runtime_venv(work: Path) -> Path:
    """A Python 3.12 virtualenv with boto3 only, as the managed runtime has; made once and reused."""
    from build_lambda import find_python

    venv = work / "runtime-venv"
    stamp = venv / ".stamp"
    if not stamp.exists():
        print(">> creating a Python 3.12 virtualenv with only what the Lambda runtime provides (boto3)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([*find_python(), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *RUNTIME_PACKAGES], check=True)
        stamp.touch()
    return venv / "bin" / "python"


def unpack(zip_path: Path, dest: Path) -> Path:
    if not zip_path.is_file():
        raise SystemExit(f"package-check: {zip_path} is missing; run `make package`")
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def example_events() -> list[tuple[str, Any]]:
    """Every example as (name, event): the valid ones as they are, the invalid ones' ``event`` member."""
    cases = []
    for path in sorted(EXAMPLES.glob("*/v*/*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        cases.append((path.relative_to(EXAMPLES).as_posix(), doc["event"] if path.parent.name == "invalid" else doc))
    return cases


def verdicts(cases: list[tuple[str, Any]]) -> dict[str, list[str] | None]:
    """name -> None when valid, else the sorted violation pointers, from whichever novamart_payments is imported."""
    from novamart_payments.contracts import ContractViolation, validate_event

    out: dict[str, list[str] | None] = {}
    for name, event in cases:
        try:
            validate_event(event)
            out[name] = None
        except ContractViolation as exc:
            out[name] = sorted(exc.pointers)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("package-check: moto server did not start") from None
            time.sleep(0.1)


def outer(zip_path: Path, work: Path) -> int:
    python = runtime_venv(work)
    pkg = unpack(zip_path, work / "pkg")
    sys.path.insert(0, str(ROOT / "lambda_src"))
    cases = example_events()
    expected = work / "expected-verdicts.json"
    expected.write_text(json.dumps(verdicts(cases)), encoding="utf-8")
    proc, endpoint = start_emulator()
    stripe_proc = None
    try:
        stripe_proc, api_base, webhook_port = start_local_stripe(work)
        print(f">> running the packaged handlers from {zip_path} on Python 3.12")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["AWS_ENDPOINT_URL"] = endpoint
        runs = (["--inner", str(pkg), str(expected)], ["--inner-stripe", str(pkg), api_base, str(webhook_port)])
        codes = [subprocess.run([str(python), "-I", __file__, *run], cwd=work, env=env).returncode for run in runs]
        return max(codes)
    finally:
        for process in (stripe_proc, proc):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


def start_local_stripe(work: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """localstripe as the project runs it (tools/devstack/stripe_local.py), with a webhook endpoint registered at
    the port where the Stripe run will listen."""
    sys.path.insert(0, str(ROOT))
    from tools.devstack.stripe_local import LocalStripe, start_process

    port, webhook_port = free_port(), free_port()
    process = start_process("127.0.0.1", port, work / "localstripe.log")
    api_base = f"http://127.0.0.1:{port}"
    LocalStripe(api_base).register_webhook(f"http://127.0.0.1:{webhook_port}/", WEBHOOK_SECRET)
    return process, api_base, webhook_port


def _runtime_env(pkg: Path) -> str:
    """The zip's root first on sys.path, as Lambda puts it, and the functions' environment; the emulator's URL."""
    sys.path.insert(0, str(pkg))
    os.environ.update(
        AWS_REGION="us-east-2",
        AWS_DEFAULT_REGION="us-east-2",  # Lambda sets both; boto3 sessions made without a region read this one
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        PAYMENT_TABLE_NAME="payments",
        REFUND_TABLE_NAME="refunds",
        EVENT_BUS_NAME="default",
        WEBHOOK_EVENT_TABLE_NAME="webhook-events",
        STRIPE_WEBHOOK_SECRET_ID="smoke/webhook-signing-secret",
    )
    return os.environ["AWS_ENDPOINT_URL"]


def _report(results: list[tuple[str, bool, str]]) -> int:
    failed = 0
    for name, ok, detail in results:
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))
    print(f">> Python {sys.version.split()[0]}: {'all checks passed' if not failed else f'{failed} failed'}")
    return 1 if failed else 0


def inner_stripe(pkg: Path, api_base: str, webhook_port: int) -> int:
    endpoint = _runtime_env(pkg)
    results = stripe_checks(endpoint, api_base, webhook_port)
    import stripe

    results.append(("stripe: the SDK came from the zip", Path(stripe.__file__).is_relative_to(pkg), ""))
    return _report(results + _import_origins(pkg))


def inner(pkg: Path, expected_file: Path) -> int:
    endpoint = _runtime_env(pkg)
    results: list[tuple[str, bool, str]] = []
    ddb = create_tables(endpoint)
    import novamart_payments
    from novamart_payments.handlers.payment import handler as payment
    from novamart_payments.handlers.refund import handler as refund

    results.append(("handlers imported from the zip", Path(novamart_payments.__file__).is_relative_to(pkg), ""))

    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    got = verdicts(example_events())
    differ = sorted(name for name in expected if got.get(name, "missing") != expected[name])
    valid = sum(v is None for v in expected.values())
    results.append(
        (
            f"all {len(expected)} schema examples ({valid} valid, {len(expected) - valid} invalid) get the sources' "
            "verdict and pointers",
            not differ and len(got) == len(expected),
            ", ".join(differ),
        )
    )

    paid = json.loads((ROOT / "events" / "order-placed.json").read_text())
    cancelled = json.loads((ROOT / "events" / "order-cancelled.json").read_text())
    invalid = json.loads(json.dumps(paid))
    invalid["detail"]["data"]["orderId"] = "ord-invalid"
    invalid["detail"]["data"]["amount"]["minorUnits"] = 0
    for name, result, failures in (
        ("payment", payment(batch(paid), Context()), 0),
        ("refund", refund(batch(cancelled), Context()), 0),
        ("invalid event rejected", payment(batch(invalid), Context()), 1),
    ):
        results.append((name, len(result["batchItemFailures"]) == failures, str(result)))
    statuses = sorted(i["status"]["S"] for i in ddb.scan(TableName="payments")["Items"])
    results.append(("payments table holds one SUCCEEDED payment", statuses == ["SUCCEEDED"], str(statuses)))
    results.extend(_later_functions())

    import stripe

    results.append(("the stripe SDK imports from the zip", Path(stripe.__file__).is_relative_to(pkg), ""))
    results.extend(_import_origins(pkg))

    return _report(results)


def _later_functions() -> list[tuple[str, bool, str]]:
    """The webhook function checks Stripe's signature with the SDK from the zip; the reconciliation function
    queries its index."""
    import stripe
    from novamart_payments.handlers.reconcile import handler as reconcile
    from novamart_payments.handlers.webhooks import handler as webhooks

    body = json.dumps({"id": "evt_smoke", "object": "event", "type": "customer.created", "data": {"object": {}}})

    def request(secret: str) -> dict[str, Any]:
        header = stripe.WebhookSignature.generate_signature_header(body, secret)
        return {"headers": {"stripe-signature": header}, "body": body, "isBase64Encoded": False}

    forged, genuine = webhooks(request("whsec_other"), Context()), webhooks(request(WEBHOOK_SECRET), Context())
    report = reconcile({"source": "aws.events"}, Context())
    return [
        ("webhook refuses a wrong signature", forged["statusCode"] == 400, str(forged)),
        ("webhook accepts a signed event", genuine["statusCode"] == 200, str(genuine)),
        ("reconciliation pass over the unfinished index", "oldest_unfinished_seconds" in report, str(report)),
    ]


def _import_origins(pkg: Path) -> list[tuple[str, bool, str]]:
    """Where every loaded module came from: the zip (with its .pyc), the runtime's boto3 stack, or the stdlib."""
    import importlib.util
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    foreign, uncompiled = [], []
    for name, module in sorted(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if not origin:
            continue
        path = Path(origin)
        if path.is_relative_to(pkg):
            cached = importlib.util.cache_from_source(origin) if origin.endswith(".py") else None
            if cached and not Path(cached).is_file():
                uncompiled.append(name)
        elif not (path.is_relative_to(stdlib) or path.is_relative_to(site) or _is_this_check(path)):
            foreign.append(name)
    shadowed = sorted(
        n for n in ("botocore", "boto3", "urllib3", "jmespath", "dateutil", "six") if _is_from(n, pkg) is True
    )
    return [
        ("every loaded module comes from the zip, the runtime's boto3 stack or the stdlib", not foreign, str(foreign)),
        ("every module loaded from the zip has its Python 3.12 .pyc in the zip", not uncompiled, str(uncompiled)),
        ("the zip does not shadow the runtime's boto3 stack", not shadowed, str(shadowed)),
    ]


def _is_this_check(path: Path) -> bool:
    """This script and its Stripe part (tools/package_smoke*.py), which run the handlers, and the SQS record builder
    they use."""
    return (path.parent.resolve() == HERE and path.name.startswith("package_smoke")) or path.resolve() in OWN_MODULES


def _is_from(name: str, pkg: Path) -> bool | None:
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module else None
    return Path(origin).is_relative_to(pkg) if origin else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=ROOT / "build" / "lambda.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "py312")
    parser.add_argument("--inner", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inner-stripe", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return inner(*args.inner)
    if args.inner_stripe:
        pkg, api_base, port = args.inner_stripe
        return inner_stripe(Path(pkg), api_base, int(port))
    return outer(args.zip.resolve(), args.work.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
