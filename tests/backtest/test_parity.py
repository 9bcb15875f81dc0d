"""The backtest decides and trades like the DAG: compute_signals, plan_replay, replay_session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alchemiser.backtest.engine import Backtest
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.market import Bar
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.replay import ReplayBook, ReplayResult
from alchemiser.marketdata.calendar import XnysCalendar
from alchemiser.ports import Adapters
from alchemiser.replay.step import SessionStep
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.replay import ReplaySettings, book_key, plan_replay, replay_session
from alchemiser.services.signals import compute_signals
from alchemiser.strategy.portfolio import LoadedPortfolio
from tests.fakes import FakeBroker, FakeClock, FakeStore
from tests.marketdata.test_cache import CountingSource

SAMPLED = 6


def _live(
    day: date, prior: ReplayBook, config: Path, bars: dict[str, tuple[Bar, ...]]
) -> tuple[TargetAllocation, RebalancePlan, ReplayResult]:
    """Run the DAG's use cases for one past session, from the same bars and prior book."""
    store = FakeStore()
    store.put(book_key(prior.session), prior.model_dump_json().encode())
    source = CountingSource(dict(bars))
    adapters = Adapters(
        broker=FakeBroker(prices={}, fractionable=None),
        market_data=source,
        store=store,
        clock=FakeClock(),
    )
    run = RunContext(
        dag_id="daily_rebalance",
        run_id=f"backfill__{day}",
        session=day,
        session_source="logical_date",
    )
    ref = compute_signals(run, config, store, source, XnysCalendar())
    targets = TargetAllocation.model_validate_json(store.get(ref.key))
    plan, _ = plan_replay(run, targets, adapters, PlanSettings(), ReplaySettings())
    plan_ref = save(store, run.prefix, "rebalance_plan", plan, "")
    result_ref = replay_session(run, plan_ref, adapters, ReplaySettings())
    return targets, plan, ReplayResult.model_validate_json(store.get(result_ref.key))


def test_sampled_sessions_match_what_the_dag_decides_plans_and_fills(
    portfolio: LoadedPortfolio, config: Path, bars: dict[str, tuple[Bar, ...]]
) -> None:
    sessions = calendar().sessions_between(date(2023, 1, 3), date(2023, 12, 29))
    seen: list[tuple[TargetAllocation, ReplayBook, SessionStep]] = []
    Backtest(portfolio, PriceTable(bars), BacktestSettings()).run(
        sessions, observe=lambda t, b, s: seen.append((t, b, s))
    )
    sample = seen[1 :: len(seen) // SAMPLED]
    assert len(sample) >= SAMPLED
    for targets, before, step in sample:
        live_targets, live_plan, replayed = _live(targets.as_of, before, config, bars)
        assert live_targets.weights == targets.weights, targets.as_of
        assert [c.weights for c in live_targets.contributions] == [
            c.weights for c in targets.contributions
        ]
        assert [c.trace for c in live_targets.contributions] == [
            c.trace for c in targets.contributions
        ]
        assert live_plan.items == step.plan.items
        assert live_plan.cash_reserve == step.plan.cash_reserve
        assert replayed.fills == step.fills
        assert replayed.after.cash == step.after.cash
        assert replayed.after.holdings == step.after.holdings
    # The sample is not trivial: some of it trades, and the symphony changes its mind.
    assert any(step.fills for _, _, step in sample)
    assert len({tuple(t.contributions[1].weights) for t, _, _ in seen}) > 1
