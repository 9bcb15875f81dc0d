"""Smart order walks against the paper exchange through the real alpaca-py clients.

The exchange's `limit_fill_fraction` decides how far into the spread a resting limit must be
to fill, so each scenario picks the step that fills; one fake clock drives both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

import pytest

from alchemiser.domain.errors import PhaseFailedError
from alchemiser.domain.orders import PhaseResult, PhaseStatus, WalkOutcome
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.services.execute import execute_buys, execute_sells
from tests.builders import targets
from tests.execution.conftest import (
    RUN,
    SharedClock,
    StartVenue,
    Venue,
    never_both_sides_open,
)

SETTINGS = ExecutionSettings(step_interval_seconds=10, poll_interval_seconds=1, walk_seconds=120)


def _sell_spy(venue: Venue, settings: ExecutionSettings = SETTINGS) -> PhaseResult:
    plan = venue.plan(targets({"SPY": "0.5", "BIL": "0.5"}))
    execute_sells(RUN, RUN.task("execute_sells"), plan, venue.adapters, settings)
    return PhaseResult.model_validate_json(
        venue.adapters.store.get(f"{RUN.prefix}/phase_sells.json")
    )


def test_a_passive_limit_that_fills_needs_no_walking(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal("0.4"))
    phase = _sell_spy(v)
    (walk,) = phase.walks
    assert (walk.outcome, walk.steps, walk.ended_with_market) == (WalkOutcome.FILLED, 1, False)
    assert walk.filled_qty == walk.target_qty == Decimal(5)
    assert walk.arrival_mid is not None
    assert walk.avg_fill_price is not None
    assert walk.slippage_bps is not None
    assert walk.slippage_bps <= 0  # a sell at or above the arrival mid cost nothing
    assert walk.time_to_fill_seconds is not None
    assert len(v.orders()) == 1
    assert phase.status is PhaseStatus.SUCCESS


def test_a_walk_that_fills_on_its_second_step(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal("0.6"))
    (walk,) = _sell_spy(v).walks
    assert (walk.outcome, walk.steps, walk.ended_with_market) == (WalkOutcome.FILLED, 2, False)
    first, second = v.orders()
    assert first["status"] == "replaced"
    assert second["replaces"] == first["id"]
    assert second["client_order_id"].startswith("alc-s-SPY-1-")
    assert Decimal(second["limit_price"]) < Decimal(first["limit_price"])  # a sell steps down
    assert [first["client_order_id"], second["client_order_id"]] == list(walk.client_order_ids)


def test_a_walk_ends_in_a_market_order_only_when_the_operator_opts_in(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal(2))
    (walk,) = _sell_spy(v, SETTINGS.model_copy(update={"final_order": "market"})).walks
    assert walk.outcome is WalkOutcome.FILLED
    assert walk.ended_with_market
    assert walk.final_order == "market"
    orders = v.orders()
    assert orders[-1]["type"] == "market"
    assert orders[-1]["client_order_id"] == walk.client_order_ids[-1]
    assert orders[-2]["status"] == "canceled"  # the last limit, canceled before the market order
    assert all(o["status"] in ("replaced", "canceled", "filled") for o in orders)


def test_a_partial_fill_keeps_walking_and_the_remainder_completes(venue: StartVenue) -> None:
    v = venue(
        cash="0",
        positions={"SPY": "18"},
        limit_fill_fraction=Decimal("0.4"),
        partial_fills=3,
        fill_delay_seconds=4,
    )
    (walk,) = _sell_spy(v).walks
    orders = v.orders()
    with_fills = [o for o in orders if Decimal(o["filled_qty"]) > 0]
    assert len(with_fills) >= 2  # the first limit filled in part, a later step did the rest
    assert walk.outcome is WalkOutcome.FILLED
    assert walk.filled_qty == Decimal(9) == sum(Decimal(o["filled_qty"]) for o in orders)
    cost = sum(
        (Decimal(o["filled_qty"]) * Decimal(o["filled_avg_price"]) for o in with_fills), Decimal(0)
    )
    assert walk.avg_fill_price == (cost / 9).quantize(Decimal("0.000000001"))


def test_a_rejected_order_is_reported_as_rejected(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10", "QQQ": "10"})
    plan = v.plan(targets({"BIL": "1"}))
    # Someone sold the QQQ between plan and sells: the exchange refuses our sell (403).
    v.exchange.engine.close_position("QQQ")
    with pytest.raises(PhaseFailedError, match="QQQ"):
        execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS)
    phase = PhaseResult.model_validate_json(v.adapters.store.get(f"{RUN.prefix}/phase_sells.json"))
    outcomes = {w.symbol: w.outcome for w in phase.walks}
    assert outcomes == {"QQQ": WalkOutcome.REJECTED, "SPY": WalkOutcome.FILLED}
    assert "insufficient qty" in phase.message
    assert phase.status is PhaseStatus.PARTIAL


def test_a_short_sell_phase_scales_the_buys_down_and_reports_the_rest(venue: StartVenue) -> None:
    v = venue(cash="100", positions={"SPY": "10", "XLE": "100"}, halted=frozenset({"XLE"}))
    plan = v.plan(targets({"QQQ": "1"}))
    settings = SETTINGS.model_copy(update={"walk_seconds": 40, "market_fill_seconds": 10})
    sells = execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, settings)
    sold = PhaseResult.model_validate_json(v.adapters.store.get(sells.phase.key))
    assert sold.status is PhaseStatus.PARTIAL  # XLE is halted: canceled at the deadline
    with pytest.raises(PhaseFailedError, match="partial"):
        execute_buys(
            RUN, RUN.task("execute_buys"), plan, v.adapters, settings, sells_status=sold.status
        )
    bought = PhaseResult.model_validate_json(v.adapters.store.get(f"{RUN.prefix}/phase_buys.json"))
    assert bought.scale is not None
    assert bought.scale < Decimal("0.5")
    assert bought.unbought is not None
    assert bought.unbought > 0
    assert "scaled" in bought.message
    assert bought.budget is not None
    assert bought.filled_value <= bought.budget
    orders = v.orders()
    assert never_both_sides_open(orders)
    assert all(o["status"] in ("filled", "canceled", "replaced") for o in orders)


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `except Exception` blocks."""


@dataclass
class DyingClock:
    """The shared clock, until the process dies at its n-th sleep."""

    inner: SharedClock
    after_sleeps: int

    def now(self) -> datetime:
        return self.inner.now()

    def sleep(self, seconds: float) -> None:
        self.after_sleeps -= 1
        if self.after_sleeps < 0:
            raise WorkerKilled
        self.inner.sleep(seconds)


def test_a_retried_sell_task_adopts_the_whole_walk(venue: StartVenue) -> None:
    # Limits inside the spread never fill here; only the final limit through the touch does.
    v = venue(cash="0", positions={"SPY": "10"})
    settings = SETTINGS.model_copy(update={"end_fraction": Decimal("0.8")})
    plan = v.plan(targets({"SPY": "0.5", "BIL": "0.5"}))
    # The first try dies mid-walk, after its second limit price (a killed worker)...
    dying = replace(v.adapters, clock=DyingClock(v.clock, after_sleeps=12))
    with pytest.raises(WorkerKilled):
        execute_sells(RUN, RUN.task("execute_sells"), plan, dying, settings)
    placed = [o["client_order_id"] for o in v.orders()]
    assert len(placed) >= 2
    # ...the retry finds every step it placed and carries on from there, never starting over.
    execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, settings)
    ids = [o["client_order_id"] for o in v.orders()]
    assert ids[: len(placed)] == placed
    assert len(set(ids)) == len(ids)
    assert sum(Decimal(o["filled_qty"]) for o in v.orders()) == Decimal(5)
    assert v.orders()[-1]["type"] == "limit"  # the final order, collared, after the retry


@pytest.mark.parametrize("symbols", [1, 12])
def test_status_polls_cost_one_request_per_tick_whatever_the_number_of_orders(
    venue: StartVenue, symbols: int
) -> None:
    held = ["SPY", "QQQ", "XLE", "TLT", "GLD", "IEF", "XLK", "XLF", "AAPL", "MSFT", "NVDA", "IWM"]
    v = venue(cash="0", positions={s: "10" for s in held[:symbols]}, limit_fill_fraction=Decimal(2))
    plan = v.plan(targets({"BIL": "1"}))
    execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS)
    ticks = len(v.clock.slept) + 1
    lists = v.stats()["by_route"]["GET /v2/orders"]
    # the adoption lookup and reconciliation before and after, then one list per tick
    assert lists <= ticks + 3
    # and orders resting between steps are looked at less often than every poll interval
    assert ticks < sum(v.clock.slept) / SETTINGS.poll_interval_seconds / 2
