"""`signals`: evaluate symphonies (or a portfolio config) on CSV prices as of a date.

Output contract: with one `--strategy` and `--format json`, stdout is exactly one JSON object
mapping symbol to weight (decimal strings summing to 1). Several `--strategy` files are
allocated equally and merged; `--portfolio` uses the config's allocations. Explanations go to
stderr in JSON mode, so stdout stays one object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import ConfigError, MarketDataError
from alchemiser.marketdata.columns import read_csv_history
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.portfolio import (
    LoadedPortfolio,
    allocate_portfolio,
    load_portfolio,
    portfolio_of_files,
)
from alchemiser.strategy.portfolio_config import load_portfolio_config
from alchemiser.strategy.symphony import Engine

STALE_DAYS = 7
"""A symbol whose last bar on or before --as-of is more than this many days older is stale: no
weekend, holiday or closure of the NYSE left a longer gap between two sessions (the longest, 10 to
17 September 2001, is 7), so only a file that stops early is refused."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `signals` subcommand."""
    parser = sub.add_parser(
        "signals", help="evaluate strategies on CSV prices", description=__doc__
    )
    add_sources(parser)
    parser.add_argument("--as-of", type=day_arg, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--explain", action="store_true", help="print the decision trace")
    parser.add_argument("--timing", action="store_true", help="print seconds=<float> on stderr")
    parser.set_defaults(handler=run)


def add_sources(
    parser: argparse.ArgumentParser,
    metavar: str = "DIR",
    prices_help: str = "a folder of <SYMBOL>.csv files (date,open,high,low,close,volume)",
) -> None:
    """Add `--strategy FILE ... | --portfolio CONFIG` and `--prices DIR`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--strategy", action="append", type=Path, metavar="FILE")
    source.add_argument("--portfolio", type=Path, metavar="CONFIG")
    parser.add_argument("--prices", type=Path, required=True, metavar=metavar, help=prices_help)


def day_arg(text: str) -> date:
    """Parse a YYYY-MM-DD command-line date."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from exc


def run(args: argparse.Namespace) -> int:
    """Evaluate and print; return the exit code."""
    started = time.perf_counter()
    portfolio = load_strategies(args)
    parse_seconds = time.perf_counter() - started
    history = read_csv_history(args.prices, portfolio.symbols)  # not timed: reading files
    refuse_stale(history, args.as_of, args.prices)
    started = time.perf_counter()
    engine = Engine(history)
    targets = allocate_portfolio(portfolio, engine, args.as_of, run_id="cli")
    seconds = parse_seconds + time.perf_counter() - started
    out, err = sys.stdout, sys.stderr
    if args.format == "json":
        out.write(json.dumps(_weights(targets), sort_keys=True) + "\n")
        if args.explain:
            explain_targets(targets, err)
    else:
        _table(targets, out)
        if args.explain:
            explain_targets(targets, out)
    if not args.explain:
        warn_targets(targets, err)
    if args.timing:
        err.write(f"seconds={seconds:.6f}\n")
    return 0


def load_strategies(args: argparse.Namespace) -> LoadedPortfolio:
    """Return the portfolio of `--portfolio`, or the `--strategy` files equally allocated."""
    if args.portfolio is not None:
        return load_portfolio(load_portfolio_config(args.portfolio), args.portfolio)
    paths: list[Path] = args.strategy
    if not paths:
        raise ConfigError("give at least one --strategy FILE")
    return portfolio_of_files(paths)


def _weights(targets: TargetAllocation) -> dict[str, str]:
    return {w.symbol: format(w.weight.normalize(), "f") for w in targets.weights}


def _table(targets: TargetAllocation, out: TextIO) -> None:
    out.write(f"as of {targets.as_of}\nsymbol  weight\n")
    for w in targets.weights:
        out.write(f"{w.symbol:<6}  {w.weight * 100:9.4f}%\n")
    if len(targets.contributions) > 1:
        for c in targets.contributions:
            held = ", ".join(f"{w.symbol} {w.weight * 100:.2f}%" for w in c.weights)
            out.write(f"{c.strategy} ({c.allocation * 100:.2f}%): {held}\n")


def explain_targets(targets: TargetAllocation, out: TextIO) -> None:
    """Write why each strategy holds what it holds."""
    for c in targets.contributions:
        out.write(f"why {c.strategy}:\n")
        for step in c.trace:
            out.write(f"  {step.where}  {step.what}\n")
        for warning in c.warnings:
            out.write(f"  warning: {warning}\n")


def refuse_stale(history: PriceHistory, as_of: date, where: Path) -> None:
    """Raise MarketDataError naming each symbol whose bars stop more than STALE_DAYS before
    `as_of`: its strategies would decide on an old close without a word."""
    stale = []
    for symbol in history.symbols:
        series = history.get(symbol)
        count = series.count_until(as_of.toordinal()) if series is not None else 0
        if series is None or count == 0:
            continue  # no bar before as-of at all: the strategies say "no bars for" it
        last = date.fromordinal(int(series.dates[count - 1]))
        if (as_of - last).days > STALE_DAYS:
            stale.append(f"{symbol} ends {last}")
    if stale:
        raise MarketDataError(
            f"{where}: prices stop more than {STALE_DAYS} days before --as-of {as_of} "
            f"({', '.join(stale)}): update the files or pick an earlier --as-of"
        )


def warn_targets(targets: TargetAllocation, out: TextIO) -> None:
    """Write each strategy's warnings (a symbol without bars, a substituted value)."""
    for c in targets.contributions:
        for warning in c.warnings:
            out.write(f"warning: {c.strategy}: {warning}\n")


def total(weights: dict[str, str]) -> Decimal:
    """Return the sum of printed weights (a check for tests and scripts)."""
    return sum((Decimal(v) for v in weights.values()), Decimal(0))
