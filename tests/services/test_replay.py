"""Replaying past sessions against the paper exchange: no orders, a carried book, a curve."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.keys import EQUITY_CURVE, book_key
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.replay import REPLAY_ACCOUNT, EquityCurve, ReplayBook, ReplayResult
from alchemiser.domain.report import RunReport, TaskFailure
from alchemiser.notify.message import event_from_report
from alchemiser.ports import Adapters
from alchemiser.services.context import RunContext
from alchemiser.services.plan import plan_rebalance
from alchemiser.services.replay import ReplaySettings, replay_session
from alchemiser.services.report import find_refs, write_report
from alchemiser.services.signals import compute_signals
from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from sandbox.processes import exchange_oracle
from tests.fakes import FakeClock, FakeStore

EXCHANGE_SESSION = date(2025, 6, 30)
CONFIG = "strategies:\n  - {name: a, kind: fixed, allocation: 1, weights: {SPY: 0.6, TLT: 0.4}}\n"


@pytest.fixture
def exchange() -> Iterator[PaperExchange]:
    config = ExchangeConfig(
        session=EXCHANGE_SESSION,
        history_start=date(2025, 1, 1),
        account=AccountSeed(cash=Decimal(10_000), positions={"SPY": Decimal(3)}),
    )
    with PaperExchange(config) as running:
        yield running


def _adapters(exchange: PaperExchange) -> Adapters:
    settings = AlpacaSettings(key_id="k", secret_key="s", base_url=exchange.url)
    return Adapters(
        broker=AlpacaBroker(settings),
        market_data=AlpacaMarketData(settings),
        store=FakeStore(),
        clock=FakeClock(),
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(CONFIG)
    return path


def _backfill_run(day: date, *, backfill: bool = False) -> RunContext:
    """A run for past session `day`; `backfill` says whether Airflow's run type is backfill."""
    return RunContext(
        dag_id="daily_rebalance",
        run_id=f"backfill__{day.isoformat()}",
        session=day,
        session_source="logical_date",
        backfill=backfill,
    )


def _replay(day: date, adapters: Adapters, config: Path) -> ReplayResult:
    run = _backfill_run(day)
    targets = compute_signals(run, config, adapters.store)
    planned = plan_rebalance(run, targets, adapters, PlanSettings(), ReplaySettings())
    assert planned.mode == "replay"
    ref = replay_session(run, planned.plan, adapters, ReplaySettings())
    return ReplayResult.model_validate_json(adapters.store.get(ref.key))


def test_twenty_past_sessions_replay_without_a_single_order(
    exchange: PaperExchange, config: Path
) -> None:
    adapters = _adapters(exchange)
    sessions = [s.day for s in calendar().sessions_between(date(2025, 5, 1), date(2025, 6, 27))][
        :20
    ]
    results = [_replay(day, adapters, config) for day in sessions]

    oracle = exchange_oracle(exchange.url)
    assert oracle["count"] == 0
    assert oracle["rejected_count"] == 0
    store = adapters.store
    assert len(store.list_keys("replay/books/")) == 20
    curve = EquityCurve.model_validate_json(store.get(EQUITY_CURVE))
    assert [p.session for p in curve.points] == sessions
    # The first session buys into the targets from cash; later ones carry that book forward.
    assert results[0].before.cash == Decimal(100_000)
    assert {f.symbol for f in results[0].fills} == {"SPY", "TLT"}
    for earlier, later in itertools.pairwise(results):
        assert later.before == earlier.after
    final = ReplayBook.model_validate_json(store.get(book_key(sessions[-1])))
    weights = {h.symbol: h.market_value / final.value for h in final.holdings}
    assert abs(weights["SPY"] - Decimal("0.6")) < Decimal("0.02")


def test_replay_uses_only_bars_up_to_the_session(exchange: PaperExchange, config: Path) -> None:
    adapters = _adapters(exchange)
    result = _replay(date(2025, 6, 2), adapters, config)
    bars = adapters.market_data.get_daily_bars(["SPY"], date(2025, 6, 2), date(2025, 6, 2))
    spy = next(f for f in result.fills if f.symbol == "SPY")
    assert spy.price == bars["SPY"][0].close


def test_a_session_without_bars_cannot_be_replayed(exchange: PaperExchange, config: Path) -> None:
    with pytest.raises(MarketDataError, match="no daily bar for 2024-06-03"):
        _replay(date(2024, 6, 3), _adapters(exchange), config)  # before the exchange's history


def test_a_replay_that_failed_is_reported_as_a_replay_never_against_the_live_account(
    exchange: PaperExchange, config: Path
) -> None:
    adapters = _adapters(exchange)
    day = date(2025, 6, 2)
    run = _backfill_run(day)
    targets = compute_signals(run, config, adapters.store)
    plan_rebalance(run, targets, adapters, PlanSettings(), ReplaySettings())
    failed = TaskFailure(task_id="replay_session", kind="error", error="MarketDataError: x")
    refs = find_refs(run, adapters, rebalanced_by=None)
    ref = write_report(run, refs, adapters, live=True, failures=(failed,))

    report = RunReport.model_validate_json(adapters.store.get(ref.key))
    assert report.outcome == "failed"
    assert report.live is None  # a backfill never trades: neither LIVE nor paper
    assert report.venue.startswith("replay")
    assert report.after is not None
    assert report.after.account_id == REPLAY_ACCOUNT  # the simulated book, not the real account
    assert report.after.portfolio_value == Decimal(100_000)
    text = adapters.store.get(f"{run.prefix}/report.txt").decode()
    assert "LIVE" not in text
    event = event_from_report(run.dag_id, report, ref)
    assert "LIVE" not in event.text()


def test_a_backfill_that_failed_before_its_plan_is_reported_as_a_replay(
    exchange: PaperExchange,
) -> None:
    adapters = _adapters(exchange)
    day = date(2025, 6, 2)
    run = _backfill_run(day, backfill=True)
    failed = TaskFailure(task_id="compute_signals", kind="error", error="StrategyError: x")
    refs = find_refs(run, adapters, rebalanced_by=None)
    ref = write_report(run, refs, adapters, live=True, failures=(failed,))

    report = RunReport.model_validate_json(adapters.store.get(ref.key))
    assert report.outcome == "failed"
    assert report.live is None  # no plan says so yet, but a backfill never trades
    assert report.venue.startswith("replay")
    assert "LIVE" not in event_from_report(run.dag_id, report, ref).text()


def test_a_replay_notification_says_what_was_simulated_and_that_no_order_was_sent(
    exchange: PaperExchange, config: Path
) -> None:
    adapters = _adapters(exchange)
    day = date(2025, 6, 2)
    _replay(day, adapters, config)
    run = _backfill_run(day)
    ref = write_report(run, find_refs(run, adapters, rebalanced_by=None), adapters, live=True)
    report = RunReport.model_validate_json(adapters.store.get(ref.key))
    assert report.outcome == "replayed"
    text = event_from_report(run.dag_id, report, ref).text()
    assert "replay: 2 simulated fills at the close, 99,000.00; no order was sent" in text
    assert "book 100,000.00 -> " in text
    assert "LIVE" not in text
    assert "venue: replay (simulated fills at the close)\n" in text  # said once, not twice
