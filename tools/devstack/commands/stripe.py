"""The local Stripe (localstripe behind its fault proxy) on loopback, for the functions of ``envs/local``.

python -m tools.devstack stripe start [--host 127.0.0.1] [--port 8420] [--run-dir .run] [--timeout 30]
python -m tools.devstack stripe stop  [--run-dir .run]
python -m tools.devstack stripe serve [--host 127.0.0.1] [--port 8420]     in the foreground
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.devstack import stripe_local


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", choices=["start", "stop", "serve"])
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=stripe_local.DEFAULT_PORT)
    parser.add_argument("--timeout", type=float, default=30.0)


def execute(args: argparse.Namespace) -> int:
    if args.command == "serve":
        stripe_local.serve(args.host, args.port)
        return 0
    if args.command == "start":
        return stripe_local.start(args.host, args.port, args.run_dir, args.timeout)
    return stripe_local.stop(args.run_dir)
