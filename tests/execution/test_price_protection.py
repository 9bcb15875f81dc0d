"""Price protection and the circuit breaker against the paper exchange (issue 10, items 2 and 3).

The exchange's `limit_fill_fraction` of 2 lets no resting limit fill, not even one through the
touch, so a final limit there shows what a collar that holds does; without it a limit fills
once marketable, so limits kept inside the spread (`end_fraction` < 1) leave the fill to the
final limit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from alchemiser.domain.errors import CircuitBreakerError
from alchemiser.domain.orders import PhaseResult, WalkOutcome
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.report import ArtifactRef
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.services.artifacts import load, save
from alchemiser.services.execute import execute_sells
from tests.builders import targets
from tests.execution.conftest import RUN, StartVenue, Venue

SETTINGS = ExecutionSettings(step_interval_seconds=10, poll_interval_seconds=1, walk_seconds=120)
INSIDE_THE_SPREAD = SETTINGS.model_copy(update={"end_fraction": Decimal("0.8")})


def _sells(v: Venue, settings: ExecutionSettings, weights: dict[str, str]) -> PhaseResult:
    plan = v.plan(targets(weights))
    execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, settings)
    return _phase(v)


def _phase(v: Venue) -> PhaseResult:
    return PhaseResult.model_validate_json(v.adapters.store.get(f"{RUN.prefix}/phase_sells.json"))


def _ours(v: Venue) -> list[dict[str, Any]]:
    return [o for o in v.orders() if o["client_order_id"].startswith("alc-")]


def test_a_walk_that_reaches_its_last_step_ends_with_a_collared_limit_not_a_market_order(
    venue: StartVenue,
) -> None:
    v = venue(cash="0", positions={"SPY": "10"})
    (walk,) = _sells(v, INSIDE_THE_SPREAD, {"SPY": "0.5", "BIL": "0.5"}).walks
    assert (walk.outcome, walk.final_order, walk.ended_with_market) == (
        WalkOutcome.FILLED,
        "collared_limit",
        False,
    )
    orders = v.orders()
    assert all(o["type"] == "limit" and o["limit_price"] for o in orders)  # nothing unpriced
    final, canceled = orders[-1], orders[-2]
    assert (final["status"], canceled["status"]) == ("filled", "canceled")
    assert final["client_order_id"] == walk.client_order_ids[-1]
    assert Decimal(final["filled_avg_price"]) >= Decimal(final["limit_price"])  # a sell's floor
    # Through the far touch (the bid) by at most the 50 bps collar.
    assert walk.arrival_mid is not None
    assert Decimal(final["limit_price"]) >= walk.arrival_mid * Decimal("0.99")


def test_a_collar_that_holds_leaves_shares_unfilled_and_the_phase_says_so(
    venue: StartVenue,
) -> None:
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal(2))
    phase = _sells(v, SETTINGS, {"SPY": "0.5", "BIL": "0.5"})
    (walk,) = phase.walks
    assert (walk.outcome, walk.stopped_by, walk.final_order) == (
        WalkOutcome.UNFILLED,
        "collar",
        "collared_limit",
    )
    assert "left 5.000000000 unfilled" in walk.message
    assert "the next session's plan picks it up" in phase.message
    orders = v.orders()
    assert not any(o["type"] == "market" for o in orders)
    assert all(o["status"] in ("replaced", "canceled") for o in orders)


def _plan_at(v: Venue, weights: dict[str, str], factor: Decimal) -> ArtifactRef:
    """Store a plan whose prices are `factor` times the ones it was built on (a stale plan)."""
    ref = v.plan(targets(weights))
    plan = load(v.adapters.store, ref, RebalancePlan)
    items = tuple(i.model_copy(update={"price": i.price * factor}) for i in plan.items)
    stale = plan.model_copy(update={"items": items})
    return save(v.adapters.store, RUN.prefix, "rebalance_plan", stale, "plan")


def test_a_price_far_from_the_plan_s_is_not_traded(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10"})
    plan = _plan_at(v, {"SPY": "0.5", "BIL": "0.5"}, Decimal("1.08"))
    execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS)
    (walk,) = _phase(v).walks
    assert (walk.outcome, walk.stopped_by) == (WalkOutcome.UNFILLED, "price_moved")
    assert "price moved 7.4% from the plan's" in walk.message
    assert "re-plan" in walk.message
    assert v.orders() == []


def test_a_price_that_runs_away_mid_walk_stops_the_walk_and_cancels_its_order(
    venue: StartVenue,
) -> None:
    # The exchange's mid moves each simulated minute; a tiny tolerance makes that a runaway.
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal(2))
    settings = SETTINGS.model_copy(
        update={"max_price_move_fraction": Decimal("0.0002"), "step_interval_seconds": 40}
    )
    (walk,) = _sells(v, settings, {"SPY": "0.5", "BIL": "0.5"}).walks
    assert (walk.outcome, walk.stopped_by) == (WalkOutcome.UNFILLED, "price_moved")
    assert walk.steps >= 1
    assert all(o["status"] in ("replaced", "canceled") for o in v.orders())


def test_the_slippage_breaker_stops_the_phase_and_cancels_its_open_orders(
    venue: StartVenue,
) -> None:
    # SPY's first limit sits on the bid (half a spread under the arrival mid) and fills there;
    # XLE is halted, so its order is still open when the breaker trips.
    v = venue(cash="0", positions={"SPY": "10", "XLE": "10"}, halted=frozenset({"XLE"}))
    settings = SETTINGS.model_copy(
        update={"start_fraction": Decimal(1), "max_order_slippage_bps": Decimal("0.5")}
    )
    plan = v.plan(targets({"BIL": "1"}))
    with pytest.raises(CircuitBreakerError, match=r"SPY filled .* bps worse than its arrival"):
        execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, settings)
    phase = _phase(v)
    assert "stopped by the circuit breaker" in phase.message
    walks = {w.symbol: w for w in phase.walks}
    assert walks["SPY"].outcome is WalkOutcome.FILLED
    assert (walks["XLE"].outcome, walks["XLE"].stopped_by) == (
        WalkOutcome.UNFILLED,
        "circuit_breaker",
    )
    xle = [o for o in v.orders() if o["symbol"] == "XLE"]
    assert [o["status"] for o in xle] == ["canceled"]


def test_the_rejection_breaker_stops_the_phase_after_n_rejected_orders(venue: StartVenue) -> None:
    v = venue(
        cash="0",
        positions={"SPY": "10", "QQQ": "10", "XLE": "10"},
        limit_fill_fraction=Decimal(2),
    )
    plan = v.plan(targets({"BIL": "1"}))
    # Someone sold two positions between plan and sells: both sells are refused (403).
    v.exchange.engine.close_position("QQQ")
    v.exchange.engine.close_position("XLE")
    settings = SETTINGS.model_copy(update={"max_rejected_orders": 2})
    with pytest.raises(CircuitBreakerError, match="2 orders rejected"):
        execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, settings)
    outcomes = {w.symbol: (w.outcome, w.stopped_by) for w in _phase(v).walks}
    assert outcomes == {
        "QQQ": (WalkOutcome.REJECTED, None),
        "XLE": (WalkOutcome.REJECTED, None),
        "SPY": (WalkOutcome.UNFILLED, "circuit_breaker"),
    }
    assert [o["status"] for o in _ours(v)] == ["canceled"]  # SPY's limit, canceled
