"""Composer's rebalance settings in the backtest: the engine's apply_rebalance, as live runs use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from alchemiser.backtest.engine import Backtest, BacktestResult
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.market import Bar
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.replay import ReplayBook
from alchemiser.replay.step import SessionStep
from alchemiser.strategy.portfolio import LoadedPortfolio, load_portfolio
from alchemiser.strategy.portfolio_config import load_portfolio_config
from tests.backtest.conftest import TECH_TREND

SESSIONS = calendar().sessions_between(date(2023, 1, 3), date(2023, 6, 30))
DAILY = ":rebalance-frequency :daily"
# The live planner keeps its cash reserve at a fraction of the book's value, so with one it
# trades a little whenever the value moved (docs/backtest.md); without one, only decisions trade.
NO_RESERVE = BacktestSettings(plan=PlanSettings(cash_reserve_pct=Decimal(0)))


def symphony_portfolio(folder: Path, settings: str) -> LoadedPortfolio:
    """Return a portfolio of tech-trend alone, with `settings` in its config map."""
    (folder / "trend.clj").write_text(TECH_TREND.read_text().replace(DAILY, settings))
    path = folder / "portfolio.yaml"
    path.write_text(
        "strategies:\n  - {name: trend, kind: symphony, allocation: 1, path: trend.clj}\n"
    )
    return load_portfolio(load_portfolio_config(path), path)


def run(
    portfolio: LoadedPortfolio,
    bars: dict[str, tuple[Bar, ...]],
    settings: BacktestSettings = NO_RESERVE,
) -> tuple[BacktestResult, list[TargetAllocation]]:
    """Backtest SESSIONS; return the result and every session's targets."""
    seen: list[TargetAllocation] = []

    def keep(targets: TargetAllocation, book: ReplayBook, step: SessionStep) -> None:
        del book, step
        seen.append(targets)

    result = Backtest(portfolio, PriceTable(bars), settings).run(SESSIONS, observe=keep)
    return result, seen


def month_starts() -> dict[tuple[int, int], date]:
    """Return the first session of each month of SESSIONS."""
    out: dict[tuple[int, int], date] = {}
    for session in SESSIONS:
        out.setdefault((session.day.year, session.day.month), session.day)
    return out


def traded_sessions(result: BacktestResult) -> set[date]:
    return {t.session for t in result.trades}


def test_a_monthly_symphony_trades_only_on_the_first_session_of_each_month(
    tmp_path: Path, bars: dict[str, tuple[Bar, ...]]
) -> None:
    monthly, seen = run(symphony_portfolio(tmp_path, ":rebalance-frequency :monthly"), bars)
    firsts = set(month_starts().values())
    assert len(firsts) == 6
    assert traded_sessions(monthly) == firsts
    assert {r.session for r in monthly.sessions if r.rebalanced == ("trend",)} == firsts
    holding = [t for t in seen if t.as_of not in firsts]
    assert all(not t.contributions[0].rebalanced for t in holding)
    assert all(t.contributions[0].trace[0].what.startswith("holding: last") for t in holding)
    # Between month starts it holds what it bought, drifted with prices: the book's own weights.
    prices = PriceTable(bars)
    for before, today in pairwise(seen):
        if today.as_of in firsts:
            continue
        moved = {
            w.symbol: float(w.weight)
            * float(prices.close(w.symbol, today.as_of) / prices.close(w.symbol, before.as_of))
            for w in before.weights
        }
        total = sum(moved.values())
        for w in today.weights:
            assert abs(float(w.weight) - moved[w.symbol] / total) < 1e-8, (today.as_of, w)
    # The same symphony rebalanced daily trades inside the months too.
    daily, _ = run(symphony_portfolio(tmp_path, DAILY), bars)
    assert traded_sessions(daily) - firsts
    # With the default 1% cash reserve, a session off a month start trades only to keep the
    # reserve: a fraction of it, never the strategy's decision.
    kept, _ = run(
        symphony_portfolio(tmp_path, ":rebalance-frequency :monthly"), bars, BacktestSettings()
    )
    upkeep = [r for r in kept.sessions if r.session not in firsts and r.traded]
    assert upkeep
    assert all(r.traded < r.value * PlanSettings().cash_reserve_pct for r in upkeep)


def test_a_threshold_symphony_trades_only_when_its_drift_exceeds_the_band(
    tmp_path: Path, bars: dict[str, tuple[Bar, ...]]
) -> None:
    band = 0.05
    ruled, seen = run(symphony_portfolio(tmp_path, ":rebalance-threshold 0.05"), bars)
    _, wanted = run(symphony_portfolio(tmp_path, DAILY), bars)
    prices = PriceTable(bars)
    # An independent walk: what it holds drifts from its last rebalance; trade past the band.
    held_day, held = SESSIONS[0].day, {w.symbol: w.weight for w in wanted[0].weights}
    expected = {SESSIONS[0].day}
    for targets in wanted[1:]:
        day = targets.as_of
        grown = {
            s: float(w) * float(prices.close(s, day) / prices.close(s, held_day))
            for s, w in held.items()
        }
        total = sum(grown.values())
        want = {w.symbol: float(w.weight) for w in targets.weights}
        drift = max(abs(grown.get(s, 0) / total - want.get(s, 0)) for s in {*grown, *want})
        if drift > band:
            expected.add(day)
            held_day, held = day, {w.symbol: w.weight for w in targets.weights}
    rebalanced = {t.as_of for t in seen if t.contributions[0].rebalanced}
    assert rebalanced == expected
    assert 1 < len(expected) < len(SESSIONS) - 1  # the band both holds and trades
    assert traded_sessions(ruled) <= expected
    assert {t.as_of for t in seen if t.contributions[0].rebalanced} & traded_sessions(ruled)


def test_strategies_without_settings_rebalance_every_session(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    result, seen = run(portfolio, bars)
    assert all(r.rebalanced == ("core", "trend") for r in result.sessions)
    assert all(
        not any(c.trace[:1] and "rebalance" in c.trace[0].where for c in t.contributions)
        for t in seen
    )
    assert abs(sum((w.weight for w in seen[-1].weights), Decimal(0)) - 1) < Decimal("1e-9")
