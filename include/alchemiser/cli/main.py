"""The `python -m alchemiser` entry point: an argparse parser with one subcommand per tool.

To add a tool (e.g. `ledger show`), write a module with `register(subparsers)` that sets
`handler` on its parser, and add it to SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from alchemiser.cli import backtest, ledger, signals
from alchemiser.domain.errors import AlchemiserError

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
SUBCOMMANDS: tuple[Register, ...] = (signals.register, backtest.register, ledger.register)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m alchemiser", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors go to stderr with exit code 1 (usage errors: 2)."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except AlchemiserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
