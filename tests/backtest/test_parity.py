"""The backtest decides and trades like the DAG: compute_signals, plan_replay, replay_session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alchemiser.backtest.engine import Backtest
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.keys import book_key
from alchemiser.domain.market import Bar
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.replay import ReplayBook, ReplayResult
from alchemiser.ports import Adapters
from alchemiser.replay.step import SessionStep
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.holdings import write_replay_held
from alchemiser.services.replay import ReplaySettings, plan_replay, replay_session
from alchemiser.services.signals import compute_signals
from alchemiser.strategy.portfolio import LoadedPortfolio, load_portfolio
from alchemiser.strategy.portfolio_config import load_portfolio_config
from alchemiser.strategy.rebalance import Held
from tests.backtest.conftest import write_config
from tests.fakes import FakeBroker, FakeClock, FakeStore
from tests.marketdata.test_cache import CountingSource

SAMPLED = 6


def _live(
    day: date,
    prior: ReplayBook,
    config: Path,
    bars: dict[str, tuple[Bar, ...]],
    held: dict[str, Held] | None = None,
) -> tuple[TargetAllocation, RebalancePlan, ReplayResult]:
    """Run the DAG's use cases for one past session, from the same bars, book and holdings."""
    store = FakeStore()
    store.put(book_key(prior.session), prior.model_dump_json().encode())
    if held:
        write_replay_held(store, prior.session, held)
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
    ref = compute_signals(run, config, store, source, calendar(), replay=True)
    targets = TargetAllocation.model_validate_json(store.get(ref.key))
    plan, _ = plan_replay(run, targets, adapters, PlanSettings(), ReplaySettings())
    plan_ref = save(store, run.prefix, "rebalance_plan", plan, "")
    result_ref = replay_session(run, plan_ref, adapters, ReplaySettings())
    return targets, plan, ReplayResult.model_validate_json(store.get(result_ref.key))


Seen = list[tuple[TargetAllocation, ReplayBook, SessionStep]]


def _backtest(portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]) -> Seen:
    sessions = calendar().sessions_between(date(2023, 1, 3), date(2023, 12, 29))
    seen: Seen = []
    Backtest(portfolio, PriceTable(bars), BacktestSettings()).run(
        sessions, observe=lambda t, b, s: seen.append((t, b, s))
    )
    return seen


def _held_before(seen: Seen, day: date) -> dict[str, Held]:
    """Return each ruled strategy's last rebalance before `day`, from the backtest's targets."""
    held: dict[str, Held] = {}
    for targets, _, _ in seen:
        if targets.as_of >= day:
            break
        for part in targets.contributions:
            if part.rebalanced and any(s.where.endswith(":rebalance") for s in part.trace[:1]):
                held[part.strategy] = Held(
                    targets.as_of, {w.symbol: w.weight for w in part.weights}
                )
    return held


def _assert_parity(seen: Seen, config: Path, bars: dict[str, tuple[Bar, ...]]) -> Seen:
    """Replay sampled sessions through the DAG's use cases; return the sample."""
    sample = seen[1 :: len(seen) // SAMPLED]
    assert len(sample) >= SAMPLED
    for targets, before, step in sample:
        held = _held_before(seen, targets.as_of)
        live_targets, live_plan, replayed = _live(targets.as_of, before, config, bars, held)
        assert live_targets.weights == targets.weights, targets.as_of
        assert [c.weights for c in live_targets.contributions] == [
            c.weights for c in targets.contributions
        ]
        assert [c.trace for c in live_targets.contributions] == [
            c.trace for c in targets.contributions
        ]
        assert [c.rebalanced for c in live_targets.contributions] == [
            c.rebalanced for c in targets.contributions
        ]
        assert live_plan.items == step.plan.items
        assert live_plan.cash_reserve == step.plan.cash_reserve
        assert replayed.fills == step.fills
        assert replayed.after.cash == step.after.cash
        assert replayed.after.holdings == step.after.holdings
    return sample


def test_sampled_sessions_match_what_the_dag_decides_plans_and_fills(
    portfolio: LoadedPortfolio, config: Path, bars: dict[str, tuple[Bar, ...]]
) -> None:
    seen = _backtest(portfolio, bars)
    sample = _assert_parity(seen, config, bars)
    # The sample is not trivial: some of it trades, and the symphony changes its mind.
    assert any(step.fills for _, _, step in sample)
    assert len({tuple(t.contributions[1].weights) for t, _, _ in seen}) > 1


def test_a_symphony_with_rebalance_settings_decides_alike_in_the_dag_and_the_backtest(
    tmp_path: Path, bars: dict[str, tuple[Bar, ...]]
) -> None:
    config = write_config(tmp_path)
    trend = tmp_path / "tech-trend.clj"
    trend.write_text(
        trend.read_text().replace(
            ":rebalance-frequency :daily", ":rebalance-frequency :monthly :rebalance-threshold 0.1"
        )
    )
    seen = _backtest(load_portfolio(load_portfolio_config(config), config), bars)
    sample = _assert_parity(seen, config, bars)
    # Sampled sessions where the symphony holds and where it trades off a month start.
    assert not all(t.contributions[1].rebalanced for t, _, _ in sample)
    assert any(t.contributions[1].rebalanced and t.as_of.day > 7 for t, _, _ in seen)
