"""Shared backtest fixtures: sample prices on NYSE sessions and a two-strategy portfolio."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest

from alchemiser.backtest.sample import sample_closes
from alchemiser.domain.market import Bar
from alchemiser.strategy.portfolio import LoadedPortfolio, load_portfolio
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO, load_portfolio_config

SYMBOLS = ("SPY", "QQQ", "TQQQ", "TECL", "SOXL", "XLK", "BIL", "IEF", "TLT", "GLD")
START, END = date(2022, 1, 3), date(2024, 6, 28)
TECH_TREND = DEFAULT_PORTFOLIO.parent / "symphonies" / "tech-trend.clj"
CONFIG = (
    "strategies:\n"
    "  - {name: core, kind: fixed, allocation: 0.4, weights: {SPY: 0.6, TLT: 0.4}}\n"
    "  - {name: trend, kind: symphony, allocation: 0.6, path: tech-trend.clj}\n"
)


def bars_of(closes: dict[str, list[tuple[date, float]]]) -> dict[str, tuple[Bar, ...]]:
    """Return sample closes as validated daily bars."""
    out = {}
    for symbol, rows in closes.items():
        out[symbol] = tuple(
            Bar(session=d, open=p, high=p, low=p, close=p, volume=Decimal(1000))
            for d, c in rows
            for p in (Decimal(f"{c:.4f}"),)
        )
    return out


def write_csvs(folder: Path, bars: dict[str, tuple[Bar, ...]]) -> Path:
    """Write bars as `<SYMBOL>.csv` files; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for symbol, rows in bars.items():
        lines = [f"{b.session},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in rows]
        (folder / f"{symbol}.csv").write_text(
            "date,open,high,low,close,volume\n" + "\n".join(lines)
        )
    return folder


@lru_cache(maxsize=1)
def sample_bars() -> dict[str, tuple[Bar, ...]]:
    """Return the sample walk of SYMBOLS, START to END, as bars (built once per process)."""
    return bars_of(sample_closes(SYMBOLS, START, END))


def write_config(folder: Path) -> Path:
    """Write the two-strategy portfolio (a fixed mix and tech-trend) into `folder`."""
    (folder / "tech-trend.clj").write_text(TECH_TREND.read_text())
    path = folder / "portfolio.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def bars() -> dict[str, tuple[Bar, ...]]:
    return sample_bars()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def portfolio(config: Path) -> LoadedPortfolio:
    return load_portfolio(load_portfolio_config(config), config)
