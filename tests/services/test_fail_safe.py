"""Fail safe over fakes: leftovers canceled through the ledger, a report for every outcome,
positions reconciled, the kill switch on a retry, the session timeline, the live opt-in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alchemiser.adapters.airflow.live import check_scheduled_venue, mask
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import BrokerError, ConfigError, KillSwitchError, PartialRunError
from alchemiser.domain.market import BrokerPosition
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus, PhaseResult, WalkOutcome
from alchemiser.domain.plan import PlanSettings, Side
from alchemiser.domain.report import (
    NOTHING_LEFT_OPEN,
    ArtifactRef,
    OrderTally,
    RunReport,
    TaskFailure,
)
from alchemiser.execution.hours import SessionTimingError, check_timeline, worst_case_seconds
from alchemiser.execution.positions import PositionMismatchError
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ledger.ids import client_order_id
from alchemiser.ledger.journal import LedgeredBroker
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.notify.message import event_from_report
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import load, save
from alchemiser.services.cleanup import cancel_run_orders
from alchemiser.services.context import RunContext
from alchemiser.services.execute import execute_buys, execute_sells
from alchemiser.services.report import find_refs, tally, write_report
from alchemiser.services.snapshot import take_snapshot
from tests.builders import SESSION, D, targets
from tests.fakes import T0, FakeBroker, FakeClock, FakeMarketData, FakeStore

PRICES = {"SPY": D(100), "QQQ": D(50)}
RUN = RunContext(
    dag_id="daily_rebalance", run_id="manual__1", session=SESSION, session_source="param"
)
OTHER = RunContext(
    dag_id="daily_rebalance", run_id="manual__other", session=SESSION, session_source="param"
)
FAST = ExecutionSettings(walk_seconds=5, market_fill_seconds=5, poll_interval_seconds=0.1)


def _adapters(broker: FakeBroker) -> Adapters:
    return Adapters(
        broker=broker, market_data=FakeMarketData(PRICES), store=FakeStore(), clock=FakeClock()
    )


def _ledger(adapters: Adapters) -> TradeLedger:
    return TradeLedger(adapters.store, "acct-1", adapters.clock)


def _place(
    adapters: Adapters, run: RunContext, symbol: str, qty: str = "1", side: Side = Side.SELL
) -> str:
    """Place a resting limit order through the ledger, as the phase of `side` would."""
    task = run.task("execute_sells" if side is Side.SELL else "execute_buys")
    cid = client_order_id(task, symbol, side)
    broker = LedgeredBroker(adapters.broker, _ledger(adapters), run.session, task)
    limit = D(200) if side is Side.SELL else D(100)
    broker.submit_order(
        OrderIntent(
            client_order_id=cid,
            run_id=run.run_id,
            symbol=symbol,
            side=side,
            order_type="limit",
            qty=D(qty),
            limit_price=limit,
        )
    )
    return cid


def _intend(ledger: TradeLedger, symbol: str, qty: str) -> OrderIntent:
    """Record a sell intent of RUN as its phase does before the request; send nothing."""
    task = RUN.task("execute_sells")
    intent = OrderIntent(
        client_order_id=client_order_id(task, symbol, Side.SELL),
        run_id=RUN.run_id,
        symbol=symbol,
        side=Side.SELL,
        qty=D(qty),
    )
    ledger.intend(SESSION, task, intent)
    return intent


def _plan(adapters: Adapters, weights: dict[str, str]) -> ArtifactRef:
    """Save targets, the book before and the plan to them, as build_plan does; return the plan's
    reference."""
    allocation = targets(weights, run_id=RUN.run_id)
    snap = take_snapshot(RUN.run_id, adapters, also_quote=allocation.symbols)
    save(adapters.store, RUN.prefix, "portfolio_before", snap, "before")
    save(adapters.store, RUN.prefix, "target_allocation", allocation, "targets")
    plan = build_plan(allocation, snap, PlanSettings(cash_reserve_pct=D(0)))
    return save(adapters.store, RUN.prefix, "rebalance_plan", plan, "plan")


def test_cleanup_cancels_only_this_runs_open_orders_and_records_it() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(5), "QQQ": D(5)}, fill_limits=False)
    adapters = _adapters(broker)
    mine = _place(adapters, RUN, "SPY")
    theirs = _place(adapters, OTHER, "QQQ")
    ledger = _ledger(adapters)

    result = cancel_run_orders(RUN, ledger, broker, adapters.clock, "execute_sells failed")

    assert result.canceled == (mine,)
    assert result.clean
    assert broker.orders[mine].status is OrderStatus.CANCELED
    assert broker.orders[theirs].status is OrderStatus.NEW  # another run's order is untouched
    entry = ledger.get(SESSION, mine)
    assert entry is not None
    assert entry.status is OrderStatus.CANCELED
    assert entry.events[-1].detail == "cleanup: execute_sells failed"
    # Nothing left: a second sweep finds nothing and touches nothing.
    assert cancel_run_orders(RUN, ledger, broker, adapters.clock, "again").describe() == (
        "no open order of this run"
    )


def test_cleanup_closes_an_intent_the_broker_never_received() -> None:
    broker = FakeBroker(PRICES)
    adapters = _adapters(broker)
    ledger = _ledger(adapters)
    intent = _intend(ledger, "SPY", "1")  # then the worker died before the request

    result = cancel_run_orders(RUN, ledger, broker, adapters.clock, "worker lost")

    assert result.never_placed == (intent.client_order_id,)
    assert broker.submissions == []
    assert tally(ledger.entries(SESSION)).intents == 1
    assert tally(ledger.entries(SESSION)).open == 0


def test_an_order_that_will_not_cancel_is_reported_still_open() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(5)}, fill_limits=False)
    adapters = _adapters(broker)
    cid = _place(adapters, RUN, "SPY")
    broker.cancel_order = lambda broker_order_id: None  # type: ignore[method-assign]

    result = cancel_run_orders(
        RUN, _ledger(adapters), broker, adapters.clock, "teardown", wait_seconds=2
    )

    assert result.still_open == (cid,)
    assert not result.clean
    assert "STILL OPEN 1" in result.describe()


def _failed_sells_report(*, cancels: bool) -> tuple[Adapters, ArtifactRef]:
    """Plan, rest a sell, fail the sells with a 503, clean up and write the run's report."""
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0), fill_limits=False)
    adapters = _adapters(broker)
    _plan(adapters, {"QQQ": "1"})
    _place(adapters, RUN, "SPY")
    if not cancels:
        broker.cancel_order = lambda broker_order_id: None  # type: ignore[method-assign]
    ledger = _ledger(adapters)
    cleanup = cancel_run_orders(RUN, ledger, broker, adapters.clock, "run ended", wait_seconds=1)
    failure = TaskFailure(
        task_id="execute_sells", kind="error", error="BrokerError: 503", try_number=3
    )
    ref = write_report(
        RUN,
        find_refs(RUN, adapters, None),
        adapters,
        live=False,
        failures=(failure,),
        orders=tally(ledger.entries(SESSION)),
        cleanup=cleanup.describe(),
    )
    return adapters, ref


def test_a_report_is_written_when_the_sells_failed_and_says_what_happened() -> None:
    adapters, ref = _failed_sells_report(cancels=True)

    report = load(adapters.store, ref, RunReport)
    assert report.outcome == "failed"
    assert report.plan is not None  # what was planned
    assert report.orders is not None
    assert (report.orders.placed, report.orders.canceled, report.orders.open) == (1, 1, 0)
    assert report.after is not None  # the account after: positions and cash
    text = adapters.store.get(f"{RUN.prefix}/report.txt").decode()
    assert "execute_sells" in text
    assert "BrokerError: 503" in text
    assert "1 canceled" in text
    assert "Nothing of this run is still working at the broker" in text
    assert "(1 intent)" in text
    assert "(paper)" in text
    html = adapters.store.get(f"{RUN.prefix}/report.html").decode()
    assert "Failures" in html
    # The run's one notification comes from this report: venue, money, counts, the link.
    event = event_from_report("daily_rebalance", report, ref)
    assert event.kind == "failure"
    assert event.subject() == "[alchemiser paper] 2026-11-20: FAILED (daily_rebalance)"
    body = event.text()
    assert "venue: fake (paper)" in body
    assert "orders: 1 placed, 0 filled, 0 re-priced, 1 canceled, 0 rejected, 0 open" in body
    assert "failed: execute_sells (error): BrokerError: 503" in body
    assert f"report: {ref.link}" in body
    # The note's counts add up: rejected ones are named too.
    assert "1 placed, 0 filled, 0 re-priced, 1 canceled, 0 rejected, 0 open" in report.note
    # The cleanup's line says what it canceled; a teardown that found nothing adds no line.
    assert f"cleanup: {report.cleanup}" in body
    quiet = report.model_copy(update={"cleanup": NOTHING_LEFT_OPEN})
    assert "cleanup:" not in event_from_report("daily_rebalance", quiet, ref).text()


def test_a_report_is_written_when_no_plan_was_made_and_the_broker_is_down() -> None:
    broker = FakeBroker(PRICES)
    adapters = _adapters(broker)

    def down() -> None:
        raise BrokerError("get account: HTTP 503")

    broker.get_account = down  # type: ignore[assignment,method-assign]
    failure = TaskFailure(task_id="compute_signals", kind="error", error="StrategyError: bad")

    ref = write_report(RUN, find_refs(RUN, adapters, None), adapters, failures=(failure,))

    report = load(adapters.store, ref, RunReport)
    assert report.outcome == "failed"
    assert report.targets is None
    assert report.plan is None
    assert report.after is None
    assert "503" in report.after_error
    assert "could not be read" in adapters.store.get(f"{RUN.prefix}/report.txt").decode()


def test_the_kill_switch_before_a_retry_cancels_what_the_earlier_try_placed() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, fill_limits=False)
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    task = RUN.task("execute_sells")
    # The earlier try placed the walk's first order, then its worker was lost.
    cid = _place(adapters, RUN, "SPY")
    assert broker.orders[cid].status is OrderStatus.NEW

    with pytest.raises(KillSwitchError, match="open orders canceled"):
        execute_sells(RUN, task, ref, adapters, FAST, halt=lambda: "kill switch on")

    assert broker.orders[cid].status is OrderStatus.CANCELED
    assert broker.submissions == [cid]  # nothing new placed


def test_positions_that_moved_since_the_plan_refuse_the_sells() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0))
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    broker.positions["SPY"] = D(7)  # a manual trade between the plan and the sells

    with pytest.raises(PositionMismatchError, match="SPY: expected 10, broker holds 7"):
        execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, FAST)
    assert broker.submissions == []


def test_a_retry_counts_the_fills_of_this_runs_earlier_try_as_expected() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0), fill_limits=False)
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    task = RUN.task("execute_sells")
    # The earlier try's first order filled 4 of the 10 shares before its worker was lost.
    cid = _place(adapters, RUN, "SPY", qty="10")
    broker.orders[cid] = broker.orders[cid].model_copy(
        update={"status": OrderStatus.CANCELED, "filled_qty": D(4), "filled_avg_price": D(100)}
    )
    broker.positions["SPY"] = D(6)
    broker.fill_limits = True

    execute_sells(RUN, task, ref, adapters, FAST)  # no PositionMismatchError: 10 - 4 = 6

    assert broker.positions["SPY"] == 0


@dataclass
class PositionsDown(FakeBroker):
    """A broker whose position list fails `down` more times (a 503 storm), then answers."""

    down: int = 0

    def get_positions(self) -> tuple[BrokerPosition, ...]:
        if self.down > 0:
            self.down -= 1
            raise BrokerError("list positions: HTTP 503 Service Unavailable", status=503)
        return super().get_positions()


def test_a_retry_after_the_post_buy_check_failed_still_checks_the_positions() -> None:
    broker = PositionsDown(PRICES, positions={"SPY": D(10)}, cash=D(0))
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, FAST)
    broker.positions["SPY"] = D(2)  # a manual trade while the run buys
    broker.down = 1  # and the broker fails the position list after the buys
    with pytest.raises(BrokerError, match="list positions"):
        execute_buys(RUN, RUN.task("execute_buys"), ref, adapters, FAST)
    placed = list(broker.submissions)

    # The buys are recorded done; the retry must not turn the run green unchecked.
    with pytest.raises(PositionMismatchError, match="SPY: expected 0, broker holds 2"):
        execute_buys(RUN, RUN.task("execute_buys"), ref, adapters, FAST)
    assert broker.submissions == placed


def _nothing_working_and_the_ledger_agrees(adapters: Adapters, broker: FakeBroker) -> OrderTally:
    """Assert no order of the run is still working at the broker and every ledger entry holds
    the broker's final state; return the report's tally of them."""
    assert all(o.is_terminal for o in broker.orders.values())
    entries = _ledger(adapters).entries(SESSION)
    assert {e.client_order_id: (e.status, e.filled_qty) for e in entries} == {
        cid: (o.status, o.filled_qty) for cid, o in broker.orders.items()
    }
    report = load(
        adapters.store,
        write_report(RUN, find_refs(RUN, adapters, None), adapters, orders=tally(entries)),
        RunReport,
    )
    assert report.orders is not None
    assert report.orders.open == 0
    return report.orders


def test_a_retry_whose_new_buys_size_to_nothing_still_works_the_earlier_tries_orders() -> None:
    broker = FakeBroker(PRICES, cash=D(2000), fill_limits=False)
    adapters = _adapters(broker)
    ref = _plan(adapters, {"SPY": "0.5", "QQQ": "0.5"})
    execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, FAST)
    # The first try rested its SPY buy, then its worker was lost; the order holds the money.
    task = RUN.task("execute_buys")
    _place(adapters, RUN, "SPY", qty="10", side=Side.BUY)
    broker.cash = D(0)
    broker.fill_limits = True

    # Not "nothing bought" with the adopted order abandoned: SPY's order is worked to its fill,
    # QQQ is left unbought, and the run ends partial saying so (partial_policy=fail).
    with pytest.raises(PartialRunError, match=r"scaled to 0\.00% of plan .* 994\.90 unbought"):
        execute_buys(RUN, task, ref, adapters, FAST)
    assert broker.positions["SPY"] == D(10)
    assert "QQQ" not in broker.positions
    assert all(cid.startswith("alc-b-SPY-") for cid in broker.submissions)
    assert _nothing_working_and_the_ledger_agrees(adapters, broker).filled == 1


@dataclass
class CancelRacesFill(FakeBroker):
    """A cancel stays pending for `race_seconds` of `clock`; then the order turns out filled."""

    clock: FakeClock = field(default_factory=FakeClock)
    race_seconds: float = 8
    racing: dict[str, datetime] = field(default_factory=dict)

    def cancel_order(self, broker_order_id: str) -> None:
        self.calls.append("cancel")
        old = self._by_broker_id(broker_order_id)
        cid = old.client_order_id
        self.orders[cid] = old.model_copy(update={"status": OrderStatus.PENDING_CANCEL})
        self.racing.setdefault(cid, self.clock.now() + timedelta(seconds=self.race_seconds))

    def get_orders(
        self, client_order_ids: Sequence[str], since: datetime | None = None
    ) -> tuple[OrderResult, ...]:
        for cid, at in list(self.racing.items()):
            if self.clock.now() >= at:  # the fill won the race against the cancel
                del self.racing[cid]
                order = self.orders[cid]
                left = (order.qty or D(0)) - order.filled_qty
                self._pending[cid] = (left, self.prices[order.symbol], 0)
                self._fill(cid)
        return super().get_orders(client_order_ids, since)


def test_a_sell_whose_deadline_cancel_loses_to_a_fill_reports_the_fill() -> None:
    clock = FakeClock()
    broker = CancelRacesFill(
        PRICES, positions={"SPY": D(10)}, cash=D(0), fill_limits=False, clock=clock
    )
    adapters = Adapters(
        broker=broker, market_data=FakeMarketData(PRICES), store=FakeStore(), clock=clock
    )
    ref = _plan(adapters, {"QQQ": "1"})

    done = execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, FAST)

    # The deadline's cancel was still pending when the phase ended; the order then filled.
    # The phase waits for it to be final, so it reports what the account shows.
    (walk,) = load(adapters.store, done.phase, PhaseResult).walks
    assert walk.outcome is WalkOutcome.FILLED
    assert walk.filled_qty == D(10)
    assert broker.positions["SPY"] == 0
    assert _nothing_working_and_the_ledger_agrees(adapters, broker).filled == 1


def test_the_worst_case_timeline_must_fit_before_the_close_buffer() -> None:
    settings = ExecutionSettings()
    assert worst_case_seconds(settings, 120) == 2 * (300 + 60 + 10) + 120 + 60
    broker = FakeBroker(PRICES)  # its session closes an hour after T0
    assert check_timeline(broker, settings, 120) == T0 + timedelta(minutes=55)
    slow = ExecutionSettings(walk_seconds=1500, market_fill_seconds=300)
    expected = r"worst case takes 3800 s \(sells 1500\+300\+10 s.* only 3300 s"
    with pytest.raises(SessionTimingError, match=expected):
        check_timeline(broker, slow, 120)


def test_a_closed_market_is_refused_when_the_run_is_planned() -> None:
    broker = FakeBroker(PRICES, is_open=False)
    with pytest.raises(SessionTimingError, match="market closed"):
        check_timeline(broker, ExecutionSettings(), 120)


LIVE = AlpacaSettings(key_id="k", secret_key="s", paper=False)
PAPER = AlpacaSettings(key_id="k", secret_key="s", paper=True)


def test_a_scheduled_run_on_a_paper_connection_trades_paper() -> None:
    check_scheduled_venue(PAPER, None, lambda: pytest.fail("no account lookup needed"))


def test_a_scheduled_run_on_a_live_connection_needs_the_operators_opt_in() -> None:
    with pytest.raises(ConfigError, match="set Variable alchemiser_live_account"):
        check_scheduled_venue(LIVE, None, lambda: "PA123456789")
    with pytest.raises(ConfigError, match=r"\.\.\.6789"):
        check_scheduled_venue(LIVE, "PA000000000", lambda: "PA123456789")
    check_scheduled_venue(LIVE, "PA123456789", lambda: "PA123456789")


def test_account_numbers_are_masked_in_messages() -> None:
    assert mask("PA123456789") == "...6789"
    assert mask("") == "(none)"


def test_the_tally_counts_filled_orders_and_the_traded_value() -> None:
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0))
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, FAST)
    counts = tally(_ledger(adapters).entries(SESSION))
    assert counts.filled == 1
    assert counts.traded_value == Decimal("1000.00")


def test_the_tally_accounts_for_every_placed_order_re_priced_steps_included() -> None:
    # Limits never fill here: the walk re-prices (replaces) its steps, then its market order fills.
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0), fill_limits=False)
    adapters = _adapters(broker)
    ref = _plan(adapters, {"QQQ": "1"})
    settings = FAST.model_copy(
        update={"walk_seconds": 0.5, "step_interval_seconds": 0.1, "final_order": "market"}
    )
    execute_sells(RUN, RUN.task("execute_sells"), ref, adapters, settings)
    counts = tally(_ledger(adapters).entries(SESSION))
    assert counts.replaced >= 1
    assert counts.filled == 1
    assert counts.placed == (
        counts.filled + counts.replaced + counts.canceled + counts.rejected + counts.open
    )


def test_a_failed_run_whose_order_would_not_cancel_says_so_in_its_report() -> None:
    adapters, ref = _failed_sells_report(cancels=False)

    report = load(adapters.store, ref, RunReport)
    assert report.orders is not None
    assert report.orders.open == 1
    assert "1 order(s) of this run are STILL OPEN at the broker" in report.note
    assert "Nothing of this run is still working" not in report.note


def test_a_request_the_broker_never_confirmed_is_not_reported_as_nothing_working() -> None:
    # The worker died after recording the intent; at the teardown the broker is down, so the
    # cleanup cannot look the order up, and the account cannot be read either.
    broker = FakeBroker(PRICES, positions={"SPY": D(10)}, cash=D(0))
    adapters = _adapters(broker)
    _plan(adapters, {"QQQ": "1"})
    ledger = _ledger(adapters)
    _intend(ledger, "SPY", "10")

    def down(*args: object) -> None:
        raise BrokerError("HTTP 503")

    broker.get_order_by_client_id = down  # type: ignore[assignment,method-assign]
    broker.get_account = down  # type: ignore[assignment,method-assign]
    with pytest.raises(BrokerError):
        cancel_run_orders(RUN, ledger, broker, adapters.clock, "run ended")
    lost = TaskFailure(task_id="execute_sells", kind="lost", error="ended failed")
    ref = write_report(
        RUN,
        find_refs(RUN, adapters, None),
        adapters,
        failures=(lost,),
        orders=tally(ledger.entries(SESSION)),
        cleanup="FAILED: BrokerError: HTTP 503",
    )

    report = load(adapters.store, ref, RunReport)
    assert report.orders is not None
    assert (report.orders.intents, report.orders.placed, report.orders.open) == (1, 0, 0)
    assert report.orders.unconfirmed == 1
    assert "Nothing of this run is still working" not in report.note
    assert "1 order request(s) of this run the broker never confirmed" in report.note
    text = adapters.store.get(f"{RUN.prefix}/report.txt").decode()
    assert "0 open, 1 unconfirmed; traded" in text
    body = event_from_report("daily_rebalance", report, ref).text()
    assert "0 open, 1 unconfirmed" in body


def test_a_failed_run_whose_account_is_unreadable_does_not_point_at_after() -> None:
    adapters, _ = _failed_sells_report(cancels=True)
    broker = adapters.broker
    assert isinstance(broker, FakeBroker)

    def down() -> None:
        raise BrokerError("get account: HTTP 503")

    broker.get_account = down  # type: ignore[assignment,method-assign]
    failure = TaskFailure(task_id="execute_sells", kind="error", error="BrokerError: 503")
    ledger = _ledger(adapters)
    ref = write_report(
        RUN,
        find_refs(RUN, adapters, None),
        adapters,
        failures=(failure,),
        orders=tally(ledger.entries(SESSION)),
    )

    report = load(adapters.store, ref, RunReport)
    assert report.after is None
    assert "Nothing of this run is still working at the broker" in report.note
    assert "as 'After' shows" not in report.note
    assert "the account could not be read after the run" in report.note
