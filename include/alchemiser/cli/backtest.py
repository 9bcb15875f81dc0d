"""`backtest`: walk a portfolio (or symphony files) through every session of a range.

Contract: exits 0 and writes DIR/tearsheet.json (metrics, equity, targets per session),
DIR/tearsheet.html and its PNG charts (with `--publish NAME`, also to the object store under
backtests/NAME/, where the console lists it); bad input (an unknown file, a range with no sessions,
missing prices) exits 1 with an error naming it. Prices come from a CSV folder, the object
store's bar cache (`--prices cache`) or the broker's bars fetched into it once (`--prices
broker`). See docs/backtest.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from alchemiser.backtest.engine import Backtest, BacktestResult, portfolio_symbols
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.backtest.tearsheet import write_tearsheet
from alchemiser.bootstrap import build_clock
from alchemiser.calendars.trading import calendar
from alchemiser.cli.signals import add_sources, day_arg, explain_targets, load_strategies
from alchemiser.cli.store import add_store_args
from alchemiser.domain.backtests import SUMMARY_FILE, BacktestNameError, backtest_name
from alchemiser.domain.errors import ConfigError, MarketDataError
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.replay import CostModel
from alchemiser.domain.report import object_uri
from alchemiser.marketdata.columns import history_of, read_csv_columns
from alchemiser.ports import ObjectStore
from alchemiser.services.backtests import publish_backtest, summarize_tearsheet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `backtest` subcommand."""
    parser = sub.add_parser(
        "backtest", help="backtest strategies on CSV prices or the bar cache", description=__doc__
    )
    add_sources(
        parser,
        "DIR|cache|broker",
        "a folder of <SYMBOL>.csv files; cache: the object store's bar cache; broker: the "
        "broker's daily bars (APCA_API_KEY_ID, APCA_API_SECRET_KEY, APCA_API_BASE_URL), "
        "fetched into the cache once (a folder named cache or broker: write ./cache)",
    )
    parser.add_argument("--from", dest="start", type=day_arg, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=day_arg, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--benchmark", default="SPY", metavar="SYM", help="held for comparison; 'none' for none"
    )
    parser.add_argument("--cost-bps", type=_decimal, default=Decimal(0), metavar="N")
    parser.add_argument(
        "--commission", type=_decimal, default=Decimal(0), metavar="USD", help="per order"
    )
    parser.add_argument("--initial-cash", type=_decimal, default=Decimal(100_000), metavar="USD")
    defaults = PlanSettings()
    parser.add_argument(
        "--cash-reserve",
        type=_decimal,
        default=defaults.cash_reserve_pct,
        metavar="FRACTION",
        help="kept in cash, as the live planner does (default %(default)s)",
    )
    parser.add_argument(
        "--band",
        type=_decimal,
        default=defaults.min_trade_pct,
        metavar="FRACTION",
        help="skip trades smaller than this share of the book (default %(default)s)",
    )
    parser.add_argument(
        "--whole-shares",
        default="",
        metavar="SYM,SYM|all",
        help="symbols bought in whole shares only (default: every symbol is fractional)",
    )
    parser.add_argument("--explain", type=day_arg, metavar="YYYY-MM-DD", help="print a trace")
    parser.add_argument(
        "--publish",
        type=_name,
        metavar="NAME",
        help="also write the tearsheet to the store under backtests/NAME/ for the console "
        "(replaces an earlier one of that name)",
    )
    add_store_args(parser.add_argument_group("the store of --prices cache|broker and --publish"))
    parser.set_defaults(handler=run)


STORE_SOURCES = {"cache": "alchemiser.cli.sources", "broker": "alchemiser.cli.sources"}
"""--prices words -> the module that reads them; imported only when named (boto3, alpaca-py)."""


def load_prices(args: argparse.Namespace, symbols: set[str], start: date, end: date) -> PriceTable:
    """Return the prices of `symbols` from `--prices`; a missing symbol is an error naming it."""
    source = str(args.prices)
    if source in STORE_SOURCES:
        module = importlib.import_module(STORE_SOURCES[source])
        bars, where = module.load_bars(source, args, symbols, start, end)
        names = ", ".join(sorted(symbols - set(bars)))
        table = PriceTable(bars)
    else:
        # Columns straight from the files: no `Bar` per row (see marketdata/columns.py).
        found, where = read_csv_columns(args.prices, symbols), str(args.prices)
        names = ", ".join(f"{s}.csv" for s in sorted(symbols - set(found)))
        exact = {s: text for s, (_, text) in found.items()}
        table = PriceTable.from_columns(history_of(found), exact)
    if names:
        raise MarketDataError(f"missing prices in {where}: no {names}")
    return table


def open_store(args: argparse.Namespace) -> ObjectStore:
    """Return the store the store arguments choose (boto3 is imported only now)."""
    module = importlib.import_module(STORE_SOURCES["cache"])
    store: ObjectStore = module.open_store(args)
    return store


def _name(text: str) -> str:
    try:
        return backtest_name(text)
    except BacktestNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative number")
    return value


def settings_from(args: argparse.Namespace) -> BacktestSettings:
    """Return the backtest settings the command line asks for."""
    whole = args.whole_shares.strip()
    benchmark = None if args.benchmark.lower() == "none" else args.benchmark
    return BacktestSettings(
        initial_cash=args.initial_cash,
        plan=PlanSettings(cash_reserve_pct=args.cash_reserve, min_trade_pct=args.band),
        costs=CostModel(slippage_bps=args.cost_bps, commission=args.commission),
        whole_shares=None
        if whole.lower() == "all"
        else frozenset(s.strip() for s in whole.split(",") if s.strip()),
        benchmark=benchmark,
    )


class _Bar:
    """A progress bar on a terminal's stderr; nothing when stderr is not a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.every = 1

    def __call__(self, done: int, total: int, day: date) -> None:
        self.every = max(1, total // 50)
        if done % self.every and done != total:
            return
        filled = int(30 * done / total)
        self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {day}")
        if done == total:
            self.out.write("\n")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    """Backtest, write the tearsheet, print a summary; return the exit code."""
    if args.start > args.end:
        raise ConfigError(f"--from {args.start} is after --to {args.end}")
    settings = settings_from(args)
    portfolio = load_strategies(args)
    sessions = calendar().sessions_between(args.start, args.end)
    if not sessions:
        raise ConfigError(f"no trading session between {args.start} and {args.end}")
    wanted = portfolio_symbols(portfolio) | ({settings.benchmark} if settings.benchmark else set())
    prices = load_prices(args, wanted, sessions[0].day, sessions[-1].day)
    started = time.perf_counter()
    progress = _Bar(sys.stderr) if sys.stderr.isatty() else None
    result = Backtest(portfolio, prices, settings).run(
        sessions, explain=args.explain, progress=progress
    )
    doc, files = write_tearsheet(result, args.out)
    seconds = time.perf_counter() - started
    _summary(result, doc, args.out, seconds, sys.stdout)
    if args.publish is not None:
        _publish(args, doc, files, sys.stdout)
    if args.explain is not None:
        if result.explained is None:
            raise ConfigError(f"--explain {args.explain} is not a session of the backtest")
        sys.stdout.write(f"\nsession {args.explain}:\n")
        explain_targets(result.explained, sys.stdout)
    return 0


def _publish(
    args: argparse.Namespace, doc: dict[str, object], files: dict[str, bytes], out: TextIO
) -> None:
    store = open_store(args)
    summary = summarize_tearsheet(args.publish, doc, build_clock().now())
    key = publish_backtest(store, summary, files)
    where = object_uri(store.bucket, key.removesuffix(SUMMARY_FILE))
    out.write(
        f"published {args.publish} to {where}; the console shows it at "
        f"/alchemiser/backtests/{args.publish}/\n"
    )


def _summary(
    result: BacktestResult, doc: dict[str, object], out_dir: Path, seconds: float, out: TextIO
) -> None:
    metrics = doc["metrics"]
    assert isinstance(metrics, dict)
    first, last = result.sessions[0].session, result.sessions[-1].session
    out.write(
        f"backtest {first} to {last}: {len(result.sessions)} sessions in {seconds:.1f} s\n"
        f"total return {metrics['total_return']:.2%}, CAGR {metrics['cagr']:.2%}, "
        f"Sharpe {metrics['sharpe']:.2f}, max drawdown {metrics['max_drawdown']:.2%}, "
        f"{metrics['trades']} trades\n"
        f"wrote {out_dir / 'tearsheet.html'} and {out_dir / 'tearsheet.json'}\n"
    )
