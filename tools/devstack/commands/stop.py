"""Stop the whole local stack (``make emulator-stop``, and ``make clean`` before it deletes the run dir).

    python -m tools.devstack stop [--run-dir .run] [--emulator moto] [--port 4566] [--stripe-port 8420]

Stops the local Lambda service, the local Stripe and the emulator recorded in the run dir's pid files, then
looks for what is left of this stack without a pid file (``tools.devstack.leftovers``: this user's processes
started by these tools for these ports) and stops that too. Says what it stopped; exit 1 when something would
not stop. A process that holds one of the ports but was not started by these tools is named and left alone.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tools.devstack import leftovers, ministack, moto_server, stripe_local
from tools.devstack.aws import EMULATORS
from tools.devstack.commands import dev
from tools.devstack.processes import stop_pid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--emulator", choices=EMULATORS, default=os.environ.get("EMULATOR", "moto") or "moto")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    default_stripe = int(os.environ.get("STRIPE_PORT", stripe_local.DEFAULT_PORT))
    parser.add_argument("--stripe-port", type=int, default=default_stripe)


def execute(args: argparse.Namespace) -> int:
    failed = 0
    if args.run_dir.is_dir():
        failed += dev.stop(args.run_dir)
        failed += stripe_local.stop(args.run_dir)
        if args.emulator == "localstack":
            print("EMULATOR=localstack: stop LocalStack with Docker (docs/localstack.md)")
        else:
            failed += (ministack if args.emulator == "ministack" else moto_server).stop(args.run_dir)
    else:
        print(f"no run dir {args.run_dir}: looking for the stack's processes by port and command line")
    for found in leftovers.find(args.port, args.stripe_port):
        if stop_pid(found.pid):
            print(f"{found.what} (pid {found.pid}, found by its port and command line, no pid file) stopped")
        else:
            print(f"error: {found.what} pid {found.pid} did not stop")
            failed += 1
    for port in (args.port, args.stripe_port):
        for pid in leftovers.listeners(port):
            print(f"note: port {port} is still held by {leftovers.describe(pid)}, not started by these tools")
    return 1 if failed else 0
