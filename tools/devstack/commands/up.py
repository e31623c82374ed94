"""``make dev``: the local stack up and ready, with the same short progress as ``make demo``.

    python -m tools.devstack up [--run-dir .run] [--stripe-port 8420] [--no-seed]

Starts (or reuses) the emulator and the local Stripe, applies ``terraform/envs/local`` (the plan summary, a
``[done/planned]`` line every 10 s and the elapsed time on the terminal; Terraform's whole output in
``<run-dir>/terraform-apply.log``), starts the local Lambda service, puts the sample events on the bus and runs
the doctor. Running it again on a running stack re-applies (Terraform plans no change when nothing changed) and
seeds the samples again (their fixed ids are recognised: nothing is charged twice). Exit status: the doctor's.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tools.devstack.aws import emulator_kind
from tools.devstack.commands.demo_setup import DemoStack, step
from tools.devstack.processes import ROOT, devstack_command
from tools.devstack.stripe_local import DEFAULT_PORT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", DEFAULT_PORT)))
    parser.add_argument("--no-seed", action="store_true", help="do not put the sample events on the bus")


def execute(args: argparse.Namespace) -> int:
    started = time.monotonic()
    args.skip_apply = False
    stack = DemoStack(args)
    print(f"NovaMart payments local stack ({emulator_kind()} at {stack.endpoint}, region {stack.region})")
    stack.emulator()
    stack.local_stripe()
    stack.apply()
    stack.lambda_service()
    if not args.no_seed:
        step("Sample events from events/ onto the bus (make seed)")
        stack.run_quietly(devstack_command("seed"), check=False)
    step("Health checks (make doctor)")
    code = stack.run_quietly(devstack_command("doctor", "--run-dir", str(args.run_dir)), check=False)
    print(f"\nlocal stack {'ready' if code == 0 else 'NOT healthy'} after {time.monotonic() - started:.0f} s")
    print("Next: make events (what the service published), make check (records), make pay CARD=declined,")
    print("      make stripe-outage N=2, make invoke EVENT=events/<file>.json ORDER=<id>, make emulator-stop")
    return code
