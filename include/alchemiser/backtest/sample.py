"""A seeded, synthetic daily price set on NYSE sessions: for `make backtest`, tests and benches.

Each symbol is a geometric random walk with a drift and volatility typical of its kind (cash-like,
bonds, gold, broad equity, leveraged), so a tearsheet made from it looks like one, but it is not
market history: never draw conclusions about a strategy from it.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from alchemiser.calendars.trading import calendar
from alchemiser.strategy.portfolio import load_portfolio
from alchemiser.strategy.portfolio_config import (
    DEFAULT_PORTFOLIO,
    FixedWeightStrategy,
    load_portfolio_config,
)

_PROFILE = {  # annual drift, annual volatility
    "BIL": (0.03, 0.005),
    "SHY": (0.02, 0.02),
    "IEF": (0.02, 0.07),
    "TLT": (0.02, 0.15),
    "GLD": (0.05, 0.15),
    "SPY": (0.08, 0.18),
    "QQQ": (0.11, 0.23),
    "XLK": (0.12, 0.25),
    "TQQQ": (0.25, 0.65),
    "TECL": (0.25, 0.70),
    "SOXL": (0.25, 0.85),
    "SQQQ": (-0.30, 0.65),
}
_DEFAULT = (0.06, 0.25)
_DAYS = 252
HEADER = "date,open,high,low,close,volume\n"


def sample_closes(
    symbols: Iterable[str], start: date, end: date, seed: int = 1
) -> dict[str, list[tuple[date, float]]]:
    """Return seeded closes per symbol on every NYSE session in [start, end]."""
    days = [s.day for s in calendar().sessions_between(start, end)]
    market = random.Random(seed)
    # One shared market factor, so the symbols move together as real ones do.
    factor = [market.gauss(0.0, 1.0) for _ in days]
    out: dict[str, list[tuple[date, float]]] = {}
    for symbol in sorted(set(symbols)):
        drift, vol = _PROFILE.get(symbol, _DEFAULT)
        digest = hashlib.sha256(f"{seed}:{symbol}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        beta = 0.0 if vol < 0.03 else (-0.9 if drift < 0 else 0.8)
        close, rows = rng.uniform(20, 300), []
        daily_vol = vol / math.sqrt(_DAYS)
        for day, common in zip(days, factor, strict=True):
            shock = beta * common + math.sqrt(1 - beta * beta) * rng.gauss(0.0, 1.0)
            close *= math.exp(drift / _DAYS - daily_vol * daily_vol / 2 + daily_vol * shock)
            rows.append((day, close))
        out[symbol] = rows
    return out


def write_sample_prices(
    folder: Path, symbols: Iterable[str], start: date, end: date, seed: int = 1
) -> list[Path]:
    """Write `<SYMBOL>.csv` files of the sample walk into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for symbol, rows in sample_closes(symbols, start, end, seed).items():
        lines = (f"{d},{c:.4f},{c:.4f},{c:.4f},{c:.4f},1000000\n" for d, c in rows)
        path = folder / f"{symbol}.csv"
        path.write_text(HEADER + "".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Write the sample prices of every symbol a portfolio config names."""
    parser = argparse.ArgumentParser(
        prog="python -m alchemiser.backtest.sample", description=__doc__
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--portfolio", type=Path, default=DEFAULT_PORTFOLIO, metavar="CONFIG")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2019, 1, 2))
    parser.add_argument("--to", dest="end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--also", action="append", default=["SPY"], metavar="SYM")
    args = parser.parse_args(argv)
    config = args.portfolio
    portfolio = load_portfolio(load_portfolio_config(config), config)
    fixed = (s for s in portfolio.config.strategies if isinstance(s, FixedWeightStrategy))
    symbols = set(portfolio.symbols).union(*(s.weights for s in fixed), args.also)
    write_sample_prices(args.folder, symbols, args.start, args.end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
