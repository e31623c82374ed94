"""Start, stop and inspect the emulator of the dev targets (``EMULATOR``: moto, ministack or localstack).

    python -m tools.devstack emulator start  [--emulator moto] [--host 127.0.0.1] [--port 4566] [--run-dir .run]
    python -m tools.devstack emulator stop   [--emulator moto] [--run-dir .run]
    python -m tools.devstack emulator status [--emulator moto] [--host ...] [--port ...] [--run-dir .run]
    python -m tools.devstack emulator venv   --emulator ministack [--venv .venv-ministack]
    python -m tools.devstack emulator reset  --emulator ministack [--host ...] [--port ...]

moto is served by ``moto_server`` (``serve`` runs it in the foreground, patched); MiniStack by ``ministack``,
in a Python 3.12 venv of its own. ``EMULATOR=localstack`` makes ``start`` and ``stop`` refuse politely: LocalStack
is started with Docker (see docs/localstack.md), not by this tool. The local Stripe is the ``stripe`` subcommand.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tools.devstack import ministack, moto_server
from tools.devstack.aws import EMULATORS

TIMEOUTS = {"moto": 30.0, "ministack": 60.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", choices=["start", "stop", "status", "serve", "venv", "reset"])
    parser.add_argument("--emulator", choices=EMULATORS, default=os.environ.get("EMULATOR", "moto") or "moto")
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--venv", type=Path, default=ministack.DEFAULT_VENV, help="MiniStack's venv")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for health on start")


def execute(args: argparse.Namespace) -> int:
    kind, command = args.emulator, args.command
    if kind == "localstack":
        if command in ("start", "stop"):
            print("EMULATOR=localstack: start/stop LocalStack with Docker (docs/localstack.md); nothing to do here")
            return 0
        raise SystemExit(f"emulator {command}: not available for EMULATOR=localstack")
    timeout = args.timeout if args.timeout is not None else TIMEOUTS[kind]
    if kind == "moto":
        if command in ("venv", "reset"):
            raise SystemExit(f"emulator {command}: only for --emulator ministack")
        if command == "start":
            return moto_server.start(args.host, args.port, args.run_dir, timeout)
        if command == "stop":
            return moto_server.stop(args.run_dir)
        if command == "status":
            return moto_server.status(args.host, args.port, args.run_dir)
        moto_server.serve(args.host, args.port)
        return 0
    if command == "venv":
        ministack.ensure_venv(args.venv)
        return 0
    if command == "start":
        return ministack.start(args.host, args.port, args.run_dir, timeout, args.venv)
    if command == "stop":
        return ministack.stop(args.run_dir)
    if command == "status":
        return ministack.status(args.host, args.port, args.run_dir)
    if command == "reset":
        ministack.reset(ministack.endpoint_of(args.host, args.port))
        print("MiniStack state cleared")
        return 0
    raise SystemExit("emulator serve: only for --emulator moto (MiniStack serves itself: emulator start)")
