"""The use cases end to end over fakes: signals, plan, sells, buys, report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from alchemiser.domain.errors import (
    ConfigError,
    InsufficientBuyingPowerError,
    MarketClosedError,
    MarketDataError,
    OrderRejectedError,
    PhaseFailedError,
    SessionMismatchError,
)
from alchemiser.domain.market import Quote
from alchemiser.domain.orders import PhaseResult, PhaseStatus, TopOfBook
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.report import ArtifactRef, RunReport
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.notify.message import event_from_report
from alchemiser.ports import Adapters
from alchemiser.risk.gate import SignalGateError
from alchemiser.services.context import RunContext
from alchemiser.services.execute import SellsOutput, execute_buys, execute_sells
from alchemiser.services.plan import PlanOutput, plan_rebalance
from alchemiser.services.replay import ReplaySettings
from alchemiser.services.report import ReportRefs, find_refs, write_report
from alchemiser.services.settlement import check_settlement
from alchemiser.services.signals import compute_signals
from tests.builders import SESSION, D
from tests.fakes import T0, FakeBroker, FakeClock, FakeMarketData, FakeStore

PRICES = {"SPY": D(100), "QQQ": D(50), "XLE": D(20)}
CONFIG = """
strategies:
  - {name: a, kind: fixed, allocation: 0.5, weights: {SPY: 1}}
  - {name: b, kind: fixed, allocation: 0.5, weights: {SPY: 0.5, QQQ: 0.5}}
"""
RUN = RunContext(
    dag_id="daily_rebalance", run_id="manual__1", session=SESSION, session_source="param"
)
FAST = ExecutionSettings(walk_seconds=5, market_fill_seconds=5, poll_interval_seconds=0.1)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(CONFIG)
    return path


def _adapters(broker: FakeBroker) -> Adapters:
    return Adapters(
        broker=broker, market_data=FakeMarketData(PRICES), store=FakeStore(), clock=FakeClock()
    )


def _planned(broker: FakeBroker, config: Path) -> tuple[Adapters, PlanOutput]:
    """Compute the targets of `config` and plan them on `broker`; return the adapters and plan."""
    adapters = _adapters(broker)
    targets = compute_signals(RUN, config, adapters.store)
    return adapters, plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())


def _run_all(
    adapters: Adapters, config: Path
) -> tuple[ArtifactRef, PlanOutput, SellsOutput, ArtifactRef]:
    targets = compute_signals(RUN, config, adapters.store)
    planned = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    sells = execute_sells(RUN, RUN.task("execute_sells"), planned.plan, adapters, FAST)
    buys = execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    return targets, planned, sells, buys


def test_a_full_run_reaches_the_targets_and_reports_every_fill(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), positions={"XLE": D(100)}, cash=D(8000))
    adapters = _adapters(broker)
    targets, planned, sells, buys = _run_all(adapters, config)
    refs = ReportRefs(
        targets=targets, plan=planned.plan, snapshot=planned.snapshot, sells=sells.phase, buys=buys
    )
    ref = write_report(RUN, refs, adapters)
    report = RunReport.model_validate_json(adapters.store.get(ref.key))
    assert report.outcome == "success"
    assert broker.positions["XLE"] == 0
    weights = {w.symbol: (w.target, w.actual) for w in report.weights}
    assert abs(weights["SPY"][1] - D("0.75")) < D("0.01")
    assert abs(weights["QQQ"][1] - D("0.25")) < D("0.01")
    text = adapters.store.get(f"{RUN.prefix}/report.txt").decode()
    assert "outcome SUCCESS" in text
    assert report.derived_from[0] == "target_allocation:manual__1"
    # A dollar or so left unbought, or the slippage buffer's 99.99%: not worth a note, nor
    # "SCALED DOWN" in the notification (the next plan would not trade it either).
    assert report.buys is not None
    assert 0 < (report.buys.unbought or 0) < D(10)
    assert report.note == ""
    buffered = report.buys.model_copy(update={"scale": D("0.9999")})
    quiet = report.model_copy(update={"buys": buffered})
    assert "SCALED DOWN" not in event_from_report("daily_rebalance", quiet, ref).text()


def test_a_retried_sell_task_adopts_its_orders_instead_of_placing_new_ones(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), positions={"XLE": D(100)}, cash=D(0))
    adapters, planned = _planned(broker, config)
    task = RUN.task("execute_sells")
    first = execute_sells(RUN, task, planned.plan, adapters, FAST)
    second = execute_sells(RUN, task, planned.plan, adapters, FAST)
    assert first.client_order_ids == second.client_order_ids
    assert len(broker.submissions) == 1


def test_buys_use_only_the_money_that_is_there(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000))
    adapters, planned = _planned(broker, config)
    broker.cash = D(5_000)  # half the money disappeared between plan and buys
    ref = execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    phase = PhaseResult.model_validate_json(adapters.store.get(ref.key))
    assert phase.budget == D(5_000)
    assert phase.filled_value <= D(5_000) - D(100)  # the plan's 1% cash reserve stays
    assert broker.cash >= 0
    # The run succeeded, but not with the book the plan asked for: its report says so.
    ref = write_report(RUN, find_refs(RUN, adapters, None), adapters)
    report = RunReport.model_validate_json(adapters.store.get(ref.key))
    assert report.outcome == "success"
    assert phase.scale is not None
    assert phase.unbought is not None
    assert report.note.startswith(
        f"Buys left {phase.unbought:,.2f} unbought (scaled down to {phase.scale * 100:.2f}% of "
        "the plan by the buying budget 5,000.00)"
    )
    text = event_from_report("daily_rebalance", report, ref).text()
    assert f"SCALED DOWN to {phase.scale * 100:.1f}% by the buying budget" in text


@dataclass
class OneBadPrint(FakeBroker):
    """The next `bad` SPY quotes are a day-old print at half the price; then the real one."""

    bad: int = 0

    def get_top_of_book(self, symbols: Sequence[str]) -> dict[str, TopOfBook]:
        books = super().get_top_of_book(symbols)
        if self.bad > 0 and "SPY" in books:
            self.bad -= 1
            stale = Quote(symbol="SPY", bid=D("49.99"), ask=D("50.01"), timestamp=T0 - timedelta(1))
            books["SPY"] = books["SPY"].model_copy(update={"quote": stale})
        return books


def test_a_bad_print_when_the_buys_are_sized_does_not_size_them(config: Path) -> None:
    broker = OneBadPrint(prices=dict(PRICES), cash=D(10_000))
    adapters, planned = _planned(broker, config)
    broker.bad = 1  # gone by the time the walk looks (it would re-fetch it away)
    ref = execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    phase = PhaseResult.model_validate_json(adapters.store.get(ref.key))
    spy = next(w for w in phase.walks if w.symbol == "SPY")
    assert spy.target_qty < D(75)  # 7,425 at about 100, not twice that at the print's 50
    assert phase.filled_value <= D(10_000)
    assert broker.cash >= 0


def test_a_buy_sized_without_a_usable_quote_never_spends_more_than_its_share(
    config: Path,
) -> None:
    broker = OneBadPrint(prices=dict(PRICES), cash=D(10_000))
    adapters, planned = _planned(broker, config)
    broker.prices["SPY"] = D(104)  # up 4% since the plan: inside the 5% the walk trades within
    broker.bad = 1  # the quote at sizing is unusable: sized without it
    ref = execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    phase = PhaseResult.model_validate_json(adapters.store.get(ref.key))
    plan = RebalancePlan.model_validate_json(adapters.store.get(planned.plan.key))
    (item,) = (i for i in plan.buys if i.symbol == "SPY")
    spy = next(w for w in phase.walks if w.symbol == "SPY")
    assert phase.scale is not None
    assert spy.filled_value <= item.trade_amount * phase.scale  # not 4% over at the plan's price
    assert phase.filled_value <= D(10_000)


def test_a_backfill_run_for_the_brokers_own_session_replays_it_and_never_trades(
    config: Path,
) -> None:
    # A backfill range reaching today: the session is the broker's, yet a backfill only
    # replays; before the close there is no bar to replay it on, and it says so.
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000))
    adapters = _adapters(broker)
    backfill = RUN.model_copy(update={"backfill": True})
    targets = compute_signals(backfill, config, adapters.store)
    with pytest.raises(MarketDataError, match=r"no daily bar for 2026-11-20; cannot replay it"):
        plan_rebalance(backfill, targets, adapters, PlanSettings(), ReplaySettings())
    assert broker.submissions == []
    # The same session in a manual run is the live one.
    planned = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    assert planned.mode == "trade"


def test_no_buying_power_means_no_buys_and_a_clear_error(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000))
    adapters, planned = _planned(broker, config)
    broker.cash = D(50)
    with pytest.raises(InsufficientBuyingPowerError, match=r"only -50\.00 spendable"):
        execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    assert broker.submissions == []


def test_a_rejected_order_fails_the_phase_after_recording_the_others(config: Path) -> None:
    rejection = OrderRejectedError("asset not tradable", status=422, code=42210000)
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000), reject={"QQQ": rejection})
    adapters, planned = _planned(broker, config)
    with pytest.raises(PhaseFailedError, match="QQQ"):
        execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    phase = PhaseResult.model_validate_json(adapters.store.get(f"{RUN.prefix}/phase_buys.json"))
    assert [o.symbol for o in phase.orders] == ["SPY"]
    assert phase.status is PhaseStatus.PARTIAL
    assert "asset not tradable" in phase.message


def test_closed_market_places_nothing(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000), is_open=False)
    adapters, planned = _planned(broker, config)
    with pytest.raises(MarketClosedError, match="no orders placed"):
        execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    assert broker.submissions == []


def test_a_run_for_a_future_session_refuses_to_plan(config: Path) -> None:
    adapters = _adapters(FakeBroker(prices=dict(PRICES)))
    other = RUN.model_copy(update={"session": SESSION.replace(day=23)})
    targets = compute_signals(other, config, adapters.store)
    with pytest.raises(SessionMismatchError, match="a future session cannot be planned"):
        plan_rebalance(other, targets, adapters, PlanSettings(), ReplaySettings())


def test_targets_are_stored_with_their_strategy_contributions(config: Path) -> None:
    store = FakeStore()
    ref = compute_signals(RUN, config, store)
    stored = json.loads(store.get(ref.key))
    assert stored["weights"] == [
        {"symbol": "QQQ", "weight": "0.25"},
        {"symbol": "SPY", "weight": "0.75"},
    ]
    assert [c["strategy"] for c in stored["contributions"]] == ["a", "b"]
    assert ref.key == "runs/2026-11-20/manual__1/target_allocation.json"


def test_a_broken_portfolio_config_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("strategies:\n  - {name: a, kind: fixed, allocation: 0.5, weights: {SPY: 1}}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid portfolio config: .*sum to 0\.5"):
        compute_signals(RUN, path, FakeStore())


def test_a_share_class_named_twice_in_fixed_weights_is_refused(tmp_path: Path) -> None:
    # `BRK/B` and `BRK.B` are one symbol: the later weight would silently replace the first.
    path = tmp_path / "twice.yaml"
    path.write_text(
        "strategies:\n  - {name: a, kind: fixed, allocation: 1,"
        " weights: {BRK/B: 0.5, BRK.B: 0.5}}\n"
    )
    with pytest.raises(ConfigError, match=r"twice\.yaml: .*two keys name BRK\.B"):
        compute_signals(RUN, path, FakeStore())


def test_a_retried_buy_task_adopts_its_filled_orders_instead_of_failing_for_money(
    config: Path,
) -> None:
    broker = FakeBroker(prices=dict(PRICES), cash=D(10_000))
    adapters, planned = _planned(broker, config)
    task = RUN.task("execute_buys")
    execute_buys(RUN, task, planned.plan, adapters, FAST)
    placed = list(broker.submissions)
    # The money is spent now; a retry must adopt, not re-size and not refuse.
    ref = execute_buys(RUN, task, planned.plan, adapters, FAST)
    assert broker.submissions == placed
    phase = PhaseResult.model_validate_json(adapters.store.get(ref.key))
    assert phase.status is PhaseStatus.SUCCESS
    assert {o.client_order_id for o in phase.orders} == set(placed)


def test_settlement_after_a_retried_sell_task_still_counts_the_proceeds(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), positions={"XLE": D(100)}, cash=D(0))
    adapters, planned = _planned(broker, config)
    task = RUN.task("execute_sells")
    execute_sells(RUN, task, planned.plan, adapters, FAST)
    retried = execute_sells(RUN, task, planned.plan, adapters, FAST)
    assert retried.baseline_budget == D(0)  # from the plan, not from the account after fills
    status = check_settlement(broker, retried.client_order_ids, retried.baseline_budget, D(10))
    assert status.settled
    assert status.proceeds == D(2000)


def test_targets_far_from_the_last_traded_ones_need_force(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), positions={"XLE": D(100)}, cash=D(8000))
    adapters = _adapters(broker)
    targets, planned, sells, buys = _run_all(adapters, config)
    refs = ReportRefs(
        targets=targets, plan=planned.plan, snapshot=planned.snapshot, sells=sells.phase, buys=buys
    )
    write_report(RUN, refs, adapters)  # a traded session: its targets become the reference
    switched = config.parent / "switched.yaml"
    switched.write_text(
        "strategies:\n  - {name: a, kind: fixed, allocation: 1, weights: {XLE: 1}}\n"
    )
    later = RUN.model_copy(update={"run_id": "manual__2"})  # the next run
    new_targets = compute_signals(later, switched, adapters.store)
    with pytest.raises(SignalGateError, match=r"move 100\.0% of the book"):
        plan_rebalance(later, new_targets, adapters, PlanSettings(), ReplaySettings())
    forced = plan_rebalance(
        later, new_targets, adapters, PlanSettings(), ReplaySettings(), force=True
    )
    assert forced.trades > 0


def test_a_cleared_run_keeps_the_plan_it_traded_under(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), positions={"XLE": D(100)}, cash=D(8000))
    adapters = _adapters(broker)
    targets, planned, _, _ = _run_all(adapters, config)
    first = adapters.store.get(planned.plan.key)
    # The whole run is cleared from the UI: build_plan runs again on a traded account.
    again = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    assert again.plan.key == planned.plan.key
    assert again.trades == planned.trades
    assert adapters.store.get(planned.plan.key) == first  # not re-planned, not overwritten
    placed = list(broker.submissions)
    execute_sells(RUN, RUN.task("execute_sells"), again.plan, adapters, FAST)
    execute_buys(RUN, RUN.task("execute_buys"), again.plan, adapters, FAST)
    assert broker.submissions == placed


def test_a_run_that_has_not_traded_yet_plans_afresh(config: Path) -> None:
    broker = FakeBroker(prices=dict(PRICES), cash=D(8000))
    adapters = _adapters(broker)
    targets = compute_signals(RUN, config, adapters.store)
    plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    broker.cash = D(4000)  # e.g. the user fixed something and cleared build_plan before trading
    again = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    plan = RebalancePlan.model_validate_json(adapters.store.get(again.plan.key))
    assert plan.portfolio_value == D(4000)
