"""One bad symbol never strands the book (issue 15), against the paper exchange.

A symbol the broker will not trade, or whose quote stays crossed, is held as it is; the others
are rebalanced; a quote crossed for a moment is traded after a re-fetch; a final rejection is
never sent again by a task retry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from alchemiser.domain.errors import KillSwitchError, PhaseFailedError
from alchemiser.domain.orders import PhaseResult, PhaseStatus, WalkOutcome
from alchemiser.domain.plan import HoldReason, RebalancePlan, Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.ledger.ids import client_order_id
from alchemiser.services.artifacts import load
from alchemiser.services.execute import execute_buys, execute_sells
from tests.chaos.conftest import StartVenue
from tests.chaos.harness import SETTINGS, Venue, problems, run_context

RUN = run_context()


def _plan(v: Venue, faults: dict[str, Any] | None = None) -> tuple[ArtifactRef, RebalancePlan]:
    if faults is not None:
        v.faults(faults)
    ref = v.plan(RUN)
    return ref, load(v.adapters.store, ref, RebalancePlan)


def _trade(v: Venue, ref: ArtifactRef) -> tuple[PhaseResult, PhaseResult | None, str]:
    """Sell, then buy; return both phases and the buys' failure (the partial policy), if any."""
    sold = execute_sells(RUN, RUN.task("execute_sells"), ref, v.adapters, SETTINGS)
    sells = load(v.adapters.store, sold.phase, PhaseResult)
    failure = ""
    try:
        execute_buys(
            RUN, RUN.task("execute_buys"), ref, v.adapters, SETTINGS, sells_status=sells.status
        )
    except PhaseFailedError as exc:
        failure = str(exc)
    keys = v.store.list_keys(RUN.prefix)
    buys_key = next((k for k in keys if k.endswith("phase_buys.json")), None)
    buys = PhaseResult.model_validate_json(v.store.get(buys_key)) if buys_key else None
    return sells, buys, failure


def _filled(v: Venue) -> set[tuple[str, str]]:
    return {(o["side"], o["symbol"]) for o in v.orders() if Decimal(o["filled_qty"]) > 0}


def test_a_held_symbol_the_broker_will_not_trade_is_kept_and_the_rest_rebalanced(
    venue: StartVenue,
) -> None:
    v = venue()
    ref, plan = _plan(v, {"untradable": ["QQQ"]})
    (held,) = plan.held
    assert (held.symbol, held.reason, held.qty) == ("QQQ", HoldReason.NOT_TRADABLE, Decimal(30))
    _sells, buys, failure = _trade(v, ref)
    assert "QQQ" not in {o["symbol"] for o in v.orders()}  # never even tried
    assert _filled(v) >= {("buy", "XLE"), ("buy", "BIL")}
    assert buys is not None
    assert buys.status is PhaseStatus.SUCCESS
    assert "run ended partial" in failure
    assert "QQQ held: the broker reports it not tradable" in failure
    assert problems(v, RUN, ref) == []


def test_a_target_the_broker_will_not_trade_leaves_its_weight_in_cash(venue: StartVenue) -> None:
    v = venue()
    ref, plan = _plan(v, {"untradable": ["XLE"]})
    assert [(h.symbol, h.qty, h.target_weight) for h in plan.held] == [
        ("XLE", Decimal(0), Decimal("0.35"))
    ]
    (bil,) = plan.buys
    assert bil.target_value == (plan.investable_value * Decimal("0.35")).quantize(Decimal("0.01"))
    _sells, _buys, failure = _trade(v, ref)
    assert "XLE" not in {o["symbol"] for o in v.orders()}
    assert ("buy", "BIL") in _filled(v)
    assert "XLE held" in failure
    assert problems(v, RUN, ref) == []


def test_a_quote_crossed_for_two_seconds_is_fetched_again_and_traded(venue: StartVenue) -> None:
    v = venue()
    ref, plan = _plan(v, {"crossed_quotes": {"symbols": ["SPY"], "seconds": 2}})
    assert plan.held == ()
    assert sum(v.clock.slept) >= 2  # 0.5 + 1 + 2: re-fetched until the quote recovered
    assert v.injected()["crossed"] >= 2
    v.faults({"crossed_quotes": {"symbols": ["SPY"], "seconds": 2}})  # and again at the sells
    sells, _buys, failure = _trade(v, ref)
    assert {w.symbol: w.outcome for w in sells.walks} == {
        "SPY": WalkOutcome.FILLED,
        "QQQ": WalkOutcome.FILLED,
    }
    assert failure == ""
    assert problems(v, RUN, ref) == []


def test_a_quote_that_stays_crossed_holds_its_symbol_and_the_others_trade(
    venue: StartVenue,
) -> None:
    v = venue()
    ref, plan = _plan(v, {"crossed_quotes": {"symbols": ["SPY"]}})
    (held,) = plan.held
    assert (held.symbol, held.reason) == ("SPY", HoldReason.NO_USABLE_QUOTE)
    sells, _buys, failure = _trade(v, ref)
    assert [w.symbol for w in sells.walks] == ["QQQ"]
    assert "SPY" not in {o["symbol"] for o in v.orders()}
    assert _filled(v) >= {("sell", "QQQ"), ("buy", "XLE"), ("buy", "BIL")}
    assert "SPY held: no usable quote" in failure
    assert problems(v, RUN, ref) == []


def test_a_quote_that_goes_bad_after_planning_holds_the_walk_not_the_phase(
    venue: StartVenue,
) -> None:
    v = venue()
    ref, _ = _plan(v)
    v.faults({"crossed_quotes": {"symbols": ["QQQ"]}})
    sells, buys, failure = _trade(v, ref)
    walks = {w.symbol: w for w in sells.walks}
    assert walks["QQQ"].outcome is WalkOutcome.HELD
    assert "quote still unusable after 3 re-fetches" in walks["QQQ"].message
    assert walks["SPY"].outcome is WalkOutcome.FILLED
    assert sells.status is PhaseStatus.PARTIAL
    assert buys is not None
    assert buys.scale is not None
    assert buys.scale < 1
    assert "run ended partial" in failure
    assert problems(v, RUN, ref) == []


def test_a_not_tradable_sell_mid_phase_is_held_and_the_buys_use_what_was_raised(
    venue: StartVenue,
) -> None:
    v = venue()
    ref, plan = _plan(v)
    v.faults({"untradable": ["QQQ"]})
    sells, buys, failure = _trade(v, ref)
    walks = {w.symbol: w for w in sells.walks}
    assert walks["QQQ"].outcome is WalkOutcome.HELD
    assert "asset QQQ is not tradable" in walks["QQQ"].message
    assert sells.status is PhaseStatus.PARTIAL
    assert buys is not None
    assert buys.budget is not None
    # Sized from the budget there (cash plus what SPY raised), not from the plan's QQQ proceeds.
    assert buys.budget < plan.buying_budget + sum(i.trade_amount for i in plan.sells)
    assert buys.scale is not None
    assert buys.scale < 1
    assert buys.filled_value <= buys.budget
    assert "run ended partial" in failure
    assert v.rejected() == 1
    assert problems(v, RUN, ref) == []


def test_a_buy_not_tradable_after_the_sells_is_held_and_a_zero_quote_is_waited_out(
    venue: StartVenue,
) -> None:
    v = venue()
    ref, _ = _plan(v)
    sold = execute_sells(RUN, RUN.task("execute_sells"), ref, v.adapters, SETTINGS)
    sells = load(v.adapters.store, sold.phase, PhaseResult)
    # Between the sells and the buys: XLE stops trading, BIL quotes zero for 2 s.
    v.faults(
        {"untradable": ["XLE"], "crossed_quotes": {"symbols": ["BIL"], "seconds": 2, "zero": True}}
    )
    with pytest.raises(PhaseFailedError, match="run ended partial"):
        execute_buys(
            RUN, RUN.task("execute_buys"), ref, v.adapters, SETTINGS, sells_status=sells.status
        )
    buys_key = next(k for k in v.store.list_keys(RUN.prefix) if k.endswith("phase_buys.json"))
    buys = PhaseResult.model_validate_json(v.store.get(buys_key))
    walks = {w.symbol: w for w in buys.walks}
    assert walks["XLE"].outcome is WalkOutcome.HELD
    assert "asset XLE is not tradable" in walks["XLE"].message
    assert walks["BIL"].outcome is WalkOutcome.FILLED  # re-fetched until the quote came back
    assert buys.status is PhaseStatus.PARTIAL
    assert buys.budget is not None
    assert buys.filled_value <= buys.budget
    assert v.rejected() == 1
    assert problems(v, RUN, ref) == []


def test_a_final_rejection_is_never_sent_again_across_task_retries(venue: StartVenue) -> None:
    v = venue()
    ref, _ = _plan(v)
    v.faults({"untradable": ["QQQ"]})
    asked: list[int] = []

    def kill_on_second_tick() -> str | None:
        asked.append(1)
        return "operator kill" if len(asked) == 3 else None

    task = RUN.task("execute_sells")
    with pytest.raises(KillSwitchError):
        execute_sells(RUN, task, ref, v.adapters, SETTINGS, halt=kill_on_second_tick)
    assert v.rejected() == 1
    for _ in range(2):  # two more tries of the same task
        sold = execute_sells(RUN, task, ref, v.adapters, SETTINGS)
    phase = load(v.adapters.store, sold.phase, PhaseResult)
    assert {w.symbol: w.outcome for w in phase.walks}["QQQ"] is WalkOutcome.HELD
    assert v.rejected() == 1  # one attempt at the broker for the rejected client order id
    qqq = client_order_id(task, "QQQ", Side.SELL, 0)
    entry = v.ledger().get(RUN.session, qqq)
    assert entry is not None
    assert entry.rejection is not None
    assert (entry.rejection.code, entry.rejection.kind) == (40310000, "not_tradable")
    assert "asset QQQ is not tradable" in entry.rejection.message
    assert problems(v, RUN, ref) == []
