"""Backtest speed: 5 years of daily sessions through the whole live decision path.

Each session evaluates the strategies, plans with the live planner and fills at the close
(python -m alchemiser backtest minus file reading and the tearsheet). Portfolios: five generated
symphonies (300 nodes each, equally allocated), one generated 15,000-node symphony, and with
`--symphonies DIR` (ALCHEMISER_BENCH_SYMPHONIES) the *.clj files in DIR. Prices are the seeded
sample walk on NYSE sessions. Memory is the process's peak RSS after the runs.
"""

from __future__ import annotations

import os
import resource
import time
from datetime import date
from pathlib import Path

from alchemiser.backtest.engine import Backtest, portfolio_symbols
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.sample import sample_closes
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.portfolio import LoadedPortfolio, portfolio_of_files
from tests.benchmarks import BenchContext, Row
from tests.benchmarks.bench_strategy import SYMPHONIES_ENV
from tests.strategy.symphony_gen import SymphonyGenerator

SESSIONS = calendar().sessions_between(date(2021, 1, 1), date(2025, 12, 31))
SMALL_TARGET_S = 3.0
LARGE_TARGET_S = 60.0
LARGE_NODES = 15_000


def _prices(symbols: set[str]) -> PriceTable:
    """Return the sample walk as the CLI reads its CSV: float columns and each close's text."""
    texts = {
        s: [(d, f"{c:.4f}") for d, c in rows]
        for s, rows in sample_closes(symbols, date(2016, 1, 4), date(2025, 12, 31)).items()
    }
    history = PriceHistory.from_closes(
        {s: [(d, float(t)) for d, t in rows] for s, rows in texts.items()}
    )
    return PriceTable.from_columns(history, {s: [t for _, t in rows] for s, rows in texts.items()})


def _portfolio(folder: Path, texts: dict[str, str]) -> LoadedPortfolio:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text)
    return portfolio_of_files([folder / name for name in texts])


def _time(portfolio: LoadedPortfolio, label: str, target: float) -> list[Row]:
    symbols = portfolio_symbols(portfolio) | {"SPY"}
    started = time.perf_counter()
    prices = _prices(symbols)
    load = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    result = Backtest(portfolio, prices, BacktestSettings()).run(SESSIONS)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return [
        {"metric": f"prices to arrays, {label}", "value": round(load, 2), "unit": "s"},
        {
            "metric": f"5-year daily backtest, {label} ({len(SESSIONS)} sessions, "
            f"{len(result.trades)} trades)",
            "value": round(seconds, 2),
            "unit": "s",
            "target": f"<= {target:g} s",
            "ok": seconds <= target,
        },
        # On a shared machine the wall time includes waiting for a CPU; this does not.
        {
            "metric": f"  the same, CPU time of this process, {label}",
            "value": round(cpu, 2),
            "unit": "s",
        },
    ]


def run(ctx: BenchContext) -> list[Row]:
    """Time the backtest loop on generated portfolios (and the given symphonies)."""
    small = {f"gen-{s}.clj": SymphonyGenerator(seed=s).symphony(300) for s in range(5)}
    rows = _time(_portfolio(ctx.workdir / "small", small), "5 generated symphonies", SMALL_TARGET_S)
    large = {"gen-large.clj": SymphonyGenerator(seed=42).symphony(LARGE_NODES)}
    rows += _time(
        _portfolio(ctx.workdir / "large", large),
        f"one {LARGE_NODES:,}-node symphony",
        LARGE_TARGET_S,
    )
    folder = os.environ.get(SYMPHONIES_ENV)
    if folder:
        files = sorted(Path(folder).glob("*.clj"))
        rows += _time(
            portfolio_of_files(files),
            f"{len(files)} symphonies from {Path(folder).name}",
            SMALL_TARGET_S,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(
        {"metric": "peak RSS of the benchmark process", "value": round(peak_mb, 1), "unit": "MB"}
    )
    return rows
