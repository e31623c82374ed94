"""``python -m tools.devstack <subcommand>``: the one command line of the dev tooling, called by the Make targets.

Each subcommand is a module of ``tools.devstack.commands`` with ``add_arguments(parser)`` and ``execute(args)``;
its module docstring is its ``--help`` text. Commands are imported when chosen, so ``emulator serve`` and the
others start without loading what they do not use.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

# subcommand -> (module under tools.devstack.commands, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "dev": ("dev", "the local Lambda service as a background process (start, stop, status, run)"),
    "demo": ("demo", "emulator, terraform apply, orders through every path, summary table"),
    "seed": ("seed", "put the sample events from events/ on the bus"),
    "check": ("check", "print payment and refund records"),
    "doctor": ("doctor", "one pass/fail line per health check of the local stack"),
    "reconcile": ("reconcile", "one reconciliation pass now (what the 5-minute schedule does)"),
    "invoke": ("invoke", "run a handler locally on one sample event through python-lambda-local"),
    "emulator": ("emulator", "start, stop, inspect the emulator (moto, ministack; localstack: Docker)"),
    "stripe": ("stripe", "start, stop the local Stripe (localstripe behind its fault proxy)"),
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
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    return int(_command(args.subcommand).execute(args))
