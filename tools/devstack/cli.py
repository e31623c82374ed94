"""``python -m tools.devstack <subcommand>``: the one command line of the dev tooling, called by the Make targets.

Each subcommand is a module of ``tools.devstack.commands`` with ``add_arguments(parser)`` and ``execute(args)``;
its module docstring is its ``--help`` text. Commands are imported when chosen, so ``emulator serve`` and the
others start without loading what they do not use.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

# subcommand -> (module under tools.devstack.commands, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "up": ("up", "make dev: emulator, local Stripe, apply, local Lambda service, seed, doctor (short progress)"),
    "stop": ("stop", "stop the whole local stack, also what lost its pid file (by port and command line)"),
    "dev": ("dev", "the local Lambda service as a background process (start, stop, status, run)"),
    "demo": ("demo", "emulator, terraform apply, orders through every path, summary table"),
    "seed": ("seed", "put the sample events from events/ on the bus"),
    "check": ("check", "print payment and refund records"),
    "doctor": ("doctor", "one pass/fail line per health check of the local stack"),
    "reconcile": ("reconcile", "one reconciliation pass now (what the 5-minute schedule does)"),
    "invoke": ("invoke", "run a handler locally on one sample event through python-lambda-local"),
    "emulator": ("emulator", "start, stop, inspect the emulator (moto, ministack; localstack: Docker)"),
    "stripe": ("stripe", "start, stop the local Stripe (localstripe behind its fault proxy)"),
    "events": ("events", "what the service published, as a table (--follow: as it happens)"),
    "pay": ("pay", "one payment with a Stripe test card (declined, three_d_secure, ...) through the bus"),
    "outage": ("outage", "a Stripe outage at the local Stripe's fault proxy: the next N requests fail"),
    "load": ("load", "a burst on the local stack against a Stripe-like gateway, measured (docs/performance.md)"),
}


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"tools.devstack.commands.{SUBCOMMANDS[name][0]}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser; only the chosen subcommand's module is imported (all of them for ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m tools.devstack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (_, help_text) in SUBCOMMANDS.items():
        if chosen in SUBCOMMANDS and name != chosen:
            sub.add_parser(name, help=help_text)
            continue
        module = _command(name)
        command = sub.add_parser(
            name, help=help_text, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. A closed pipe (``make check | head -1``) ends it quietly with 0, as it would end a
    shell tool; a stopped stack ends it with a hint instead of a botocore traceback."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        code = int(_command(args.subcommand).execute(args))
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from botocore.exceptions import EndpointConnectionError

        if not isinstance(exc, EndpointConnectionError):
            raise
        endpoint = exc.kwargs.get("endpoint_url")
        print(f"error: nothing answers at {endpoint}: start the stack with make dev", file=sys.stderr)
        return 1
    return code


def _closed_pipe() -> int:
    """The reader went away: point stdout at /dev/null so that the interpreter's final flush cannot fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0
