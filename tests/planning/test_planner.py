"""The planner: targets + snapshot -> trades, pure and deterministic."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from alchemiser.domain.errors import PlanningError
from alchemiser.domain.market import Quote
from alchemiser.domain.plan import PlanSettings, Side
from alchemiser.planning.planner import build_plan
from tests.builders import D, snapshot, targets
from tests.fakes import T0

NO_RESERVE = PlanSettings(cash_reserve_pct=D(0), min_trade_pct=D(0), min_trade_amount=D(1))


def test_full_exit_sells_the_exact_position_and_buys_the_target() -> None:
    plan = build_plan(
        targets({"SPY": "1"}),
        snapshot("0", {"XLE": ("7.123456789", "100")}, {"XLE": "100", "SPY": "50"}),
        NO_RESERVE,
    )
    sell, buy = plan.items
    assert (sell.side, sell.symbol, sell.quantity, sell.close_position) == (
        Side.SELL,
        "XLE",
        D("7.123456789"),
        True,
    )
    assert (buy.side, buy.symbol) == (Side.BUY, "SPY")
    assert buy.trade_amount == D("712.34")  # the whole portfolio, to the cent, rounded down


def test_partial_sell_leaves_the_target_weight() -> None:
    plan = build_plan(
        targets({"SPY": "0.5", "BIL": "0.5"}),
        snapshot("0", {"SPY": ("10", "100")}, {"SPY": "100", "BIL": "100"}),
        NO_RESERVE,
    )
    sell = plan.sells[0]
    assert sell.symbol == "SPY"
    assert sell.quantity == D(5)
    assert not sell.close_position
    assert plan.buys[0].trade_amount == D(500)


def test_cash_reserve_is_kept_out_of_the_targets() -> None:
    settings = PlanSettings(cash_reserve_pct=D("0.01"), min_trade_pct=D(0))
    plan = build_plan(targets({"SPY": "1"}), snapshot("10000", {}, {"SPY": "100"}), settings)
    assert plan.cash_reserve == D(100)
    assert plan.investable_value == D(9900)
    assert plan.buys[0].trade_amount == D(9900)


def test_trades_under_the_band_are_skipped() -> None:
    settings = PlanSettings(cash_reserve_pct=D(0), min_trade_pct=D("0.01"))
    # SPY is 49.5% against a 50% target: a $50 trade on a $10,000 book, under the $100 band
    plan = build_plan(
        targets({"SPY": "0.5", "BIL": "0.5"}),
        snapshot("5050", {"SPY": ("49.5", "100")}, {"SPY": "100", "BIL": "100"}),
        settings,
    )
    assert [i.symbol for i in plan.items] == ["BIL"]


def test_non_fractionable_buys_round_down_to_whole_shares() -> None:
    plan = build_plan(
        targets({"UVXY": "1"}),
        snapshot("1000", {}, {"UVXY": "30"}, non_fractionable=frozenset({"UVXY"})),
        NO_RESERVE,
    )
    item = plan.buys[0]
    assert item.quantity == D(33)
    assert item.trade_amount == D(990)


def test_fractionable_quantities_stop_at_nine_decimals() -> None:
    plan = build_plan(targets({"SPY": "1"}), snapshot("1000", {}, {"SPY": "3"}), NO_RESERVE)
    assert plan.buys[0].quantity == D("333.333333333")


def test_sells_come_first_largest_first_then_buys_largest_first() -> None:
    plan = build_plan(
        targets({"A": "0.2", "B": "0.8"}),
        snapshot(
            "0",
            {"X": ("1", "100"), "Y": ("3", "100"), "A": ("1", "100")},
            {"X": "100", "Y": "100", "A": "100", "B": "100"},
        ),
        NO_RESERVE,
    )
    assert [(i.side.value, i.symbol) for i in plan.items] == [
        ("sell", "Y"),
        ("sell", "X"),
        ("buy", "B"),
    ]


def test_same_inputs_give_the_same_plan_byte_for_byte() -> None:
    args = (
        targets({"SPY": "0.6", "QQQ": "0.4"}),
        snapshot("1234.56", {"SPY": ("3.3", "401.17")}, {"SPY": "401.17", "QQQ": "377.01"}),
        PlanSettings(),
    )
    assert build_plan(*args).model_dump_json() == build_plan(*args).model_dump_json()


def test_missing_quote_is_an_error_naming_the_symbol() -> None:
    with pytest.raises(PlanningError, match="QQQ: no quote"):
        build_plan(targets({"QQQ": "1"}), snapshot("100", {}, {"SPY": "1"}), NO_RESERVE)


def test_empty_portfolio_is_an_error_not_a_division_by_zero() -> None:
    with pytest.raises(PlanningError, match="portfolio value is 0"):
        build_plan(targets({"SPY": "1"}), snapshot("0", {}, {"SPY": "1"}), NO_RESERVE)


def test_portfolio_already_on_target_needs_no_trades() -> None:
    plan = build_plan(
        targets({"SPY": "1"}),
        snapshot("0.5", {"SPY": ("10", "100")}, {"SPY": "100"}),
        PlanSettings(cash_reserve_pct=D(0)),
    )
    assert plan.is_empty
    assert plan.portfolio_value == Decimal("1000.5")


def test_a_stale_quote_is_an_error_naming_the_symbol() -> None:
    snap = snapshot("1000", {}, {"SPY": "100", "QQQ": "50"})
    old = snap.quotes[0].model_copy(update={"timestamp": snap.taken_at - timedelta(hours=1)})
    stale = snap.model_copy(update={"quotes": (old, snap.quotes[1])})
    with pytest.raises(PlanningError, match="QQQ: stale quote"):
        build_plan(targets({"SPY": "0.5", "QQQ": "0.5"}), stale, NO_RESERVE)


def test_a_crossed_or_zero_quote_never_reaches_the_planner() -> None:
    with pytest.raises(ValueError, match="crossed quote"):
        Quote(symbol="SPY", bid=D(101), ask=D(100), timestamp=T0)
    with pytest.raises(ValueError, match="greater than 0"):
        Quote(symbol="SPY", bid=D(0), ask=D(100), timestamp=T0)
