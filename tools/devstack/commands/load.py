"""Load run (``make load``): see ``tools/devstack/load.py``, whose docstring this is."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tools.devstack import load
from tools.devstack.load import Options, run

__doc__ = load.__doc__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Options()
    parser.add_argument("--orders", type=int, default=d.orders, help="orders per pass (each sends both triggers)")
    parser.add_argument("--refund-share", type=float, default=d.refund_share, help="share cancelled once paid")
    parser.add_argument("--latency-ms", type=float, default=d.latency_ms, help="mean latency of a Stripe request")
    parser.add_argument("--jitter", type=float, default=d.jitter, help="latency spread (+/- share of the mean)")
    parser.add_argument("--fault-fraction", type=float, default=d.fault_fraction, help="500s in the faulted pass")
    parser.add_argument("--limiter", type=float, default=None, help="Stripe's 429 limit per second (default: budget)")
    parser.add_argument("--emulator", choices=("ministack", "moto"), default=d.emulator)
    parser.add_argument("--host", default=d.host)
    parser.add_argument("--port", type=int, default=d.port)
    parser.add_argument("--stripe-port", type=int, default=d.stripe_port)
    parser.add_argument("--run-dir", type=Path, default=d.run_dir)
    parser.add_argument("--deadline", type=float, default=d.deadline_seconds, help="seconds for the whole run")
    parser.add_argument("--write", type=Path, default=None, help="replace the load section of this page")
    parser.add_argument("--seed", type=int, default=d.seed)


def execute(args: argparse.Namespace) -> int:
    options = Options(
        orders=args.orders,
        refund_share=args.refund_share,
        latency_ms=args.latency_ms,
        jitter=args.jitter,
        fault_fraction=args.fault_fraction,
        limiter=args.limiter,
        emulator=args.emulator,
        host=args.host,
        port=args.port,
        stripe_port=args.stripe_port,
        run_dir=args.run_dir,
        deadline_seconds=args.deadline,
        write=args.write,
        seed=args.seed,
        command=" ".join(["python -m tools.devstack", *(shlex.quote(a) for a in sys.argv[1:])]),
    )
    try:
        status, _, _ = run(options)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status
