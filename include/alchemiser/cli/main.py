"""The `python -m alchemiser` entry point: an argparse parser with one subcommand per tool.

To add a tool (e.g. `ledger show`), write a module with `register(subparsers)` that sets
`handler` on its parser, and add it to SUBCOMMANDS. Only the named subcommand's module is
imported (`ledger` pulls in boto3, a second of start-up `signals` must not pay).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from alchemiser.domain.errors import AlchemiserError

SUBCOMMANDS: dict[str, str] = {
    "signals": "alchemiser.cli.signals",
    "backtest": "alchemiser.cli.backtest",
    "ledger": "alchemiser.cli.ledger",
}
"""Subcommand name -> the module that registers it."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the parser with every subcommand, or only `only` when it names one."""
    parser = argparse.ArgumentParser(prog="python -m alchemiser", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [only] if only in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in names:
        importlib.import_module(SUBCOMMANDS[name]).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors go to stderr with exit code 1 (usage errors: 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except AlchemiserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
