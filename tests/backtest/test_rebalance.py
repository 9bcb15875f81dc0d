"""The per-strategy rebalance hook: a strategy that skips a session holds its drifted weights."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from alchemiser.backtest.engine import Backtest
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.rebalance import drifted
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.market import Bar
from alchemiser.domain.replay import ReplayBook
from alchemiser.replay.step import SessionStep
from alchemiser.strategy.portfolio import LoadedPortfolio

SESSIONS = calendar().sessions_between(date(2023, 1, 3), date(2023, 6, 30))


def _monthly_trend(strategy: str, session: date, last: date | None) -> bool:
    return (
        strategy != "trend"
        or last is None
        or (session.year, session.month)
        != (
            last.year,
            last.month,
        )
    )


def test_a_monthly_strategy_keeps_its_drifted_holdings_between_month_starts(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    prices = PriceTable(bars)
    seen: list[TargetAllocation] = []

    def keep(targets: TargetAllocation, book: ReplayBook, step: SessionStep) -> None:
        del book, step
        seen.append(targets)

    result = Backtest(portfolio, prices, BacktestSettings(), _monthly_trend).run(
        SESSIONS, observe=keep
    )
    months = [(t.as_of.year, t.as_of.month) for t in seen]
    for i in range(1, len(seen)):
        trend = {w.symbol: w.weight for w in seen[i].contributions[1].weights}
        held = {w.symbol: w.weight for w in seen[i - 1].contributions[1].weights}
        if months[i] == months[i - 1]:
            day, prev = seen[i].as_of, seen[i - 1].as_of
            moves = {s: prices.close(s, day) / prices.close(s, prev) for s in held}
            assert trend == drifted(held, moves)
            assert "trend" not in result.sessions[i].rebalanced
        else:
            assert "trend" in result.sessions[i].rebalanced
        # The fixed strategy still rebalances every session.
        assert "core" in result.sessions[i].rebalanced
        assert abs(sum((w.weight for w in seen[i].weights), Decimal(0)) - 1) < Decimal("1e-9")
    # The symphony's own decision does change inside a month when it rebalances daily.
    daily = Backtest(portfolio, prices, BacktestSettings()).run(SESSIONS)
    assert {tuple(r.targets) for r in daily.sessions} != {tuple(r.targets) for r in result.sessions}


def test_drifted_weights_follow_prices_and_sum_to_one() -> None:
    weights = drifted(
        {"A": Decimal("0.5"), "B": Decimal("0.5")}, {"A": Decimal(2), "B": Decimal(1)}
    )
    assert weights == {"A": Decimal(2) / 3, "B": Decimal(1) / 3}
