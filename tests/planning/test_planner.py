"""The planner: targets + snapshot -> trades, pure and deterministic."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from alchemiser.domain.errors import PlanningError
from alchemiser.domain.market import Quote
from alchemiser.domain.plan import HoldReason, PlanSettings, Side
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


def test_a_symbol_unknown_to_the_broker_is_an_error_naming_it() -> None:
    with pytest.raises(PlanningError, match="QQQ: unknown to the broker"):
        build_plan(targets({"QQQ": "1"}), snapshot("100", {}, {"SPY": "1"}), NO_RESERVE)


def test_a_halted_holding_is_kept_and_the_rest_rebalances_with_what_is_left() -> None:
    # $10,000 book: XLE $4,000 (target 0, cannot be sold), SPY $6,000; targets SPY/BIL 50/50.
    plan = build_plan(
        targets({"SPY": "0.5", "BIL": "0.5"}),
        snapshot(
            "0",
            {"XLE": ("40", "100"), "SPY": ("60", "100")},
            {"XLE": "100", "SPY": "100", "BIL": "100"},
            untradable=frozenset({"XLE"}),
        ),
        NO_RESERVE,
    )
    (xle,) = plan.held
    assert (xle.symbol, xle.reason, xle.qty, xle.value) == (
        "XLE",
        HoldReason.NOT_TRADABLE,
        D(40),
        D(4000),
    )
    assert "not tradable" in xle.detail
    # The $6,000 left is split 50/50 among the tradable targets, not the $10,000 book.
    assert [(i.side, i.symbol, i.trade_amount) for i in plan.items] == [
        (Side.SELL, "SPY", D(3000)),
        (Side.BUY, "BIL", D(3000)),
    ]


def test_a_halted_target_leaves_its_weight_in_cash_and_the_others_get_theirs() -> None:
    plan = build_plan(
        targets({"SPY": "0.6", "XLE": "0.4"}),
        snapshot("10000", {}, {"SPY": "100", "XLE": "50"}, untradable=frozenset({"XLE"})),
        NO_RESERVE,
    )
    assert [(i.symbol, i.trade_amount) for i in plan.buys] == [("SPY", D(6000))]
    (xle,) = plan.held
    assert (xle.symbol, xle.qty, xle.target_weight) == ("XLE", D(0), D("0.4"))
    assert plan.held_line() == "XLE held: the broker reports it not tradable"


def test_a_symbol_without_a_usable_quote_is_held_at_the_broker_s_mark() -> None:
    plan = build_plan(
        targets({"SPY": "1"}),
        snapshot(
            "0",
            {"SPY": ("50", "100"), "QQQ": ("50", "100")},
            {"SPY": "100"},
            unquoted=frozenset({"QQQ"}),
        ),
        NO_RESERVE,
    )
    assert [h.reason for h in plan.held] == [HoldReason.NO_USABLE_QUOTE]
    assert plan.items == ()  # SPY already has all the money that is left
    assert plan.portfolio_value == D(10000)


def test_an_untradable_holding_already_on_target_is_not_held_back() -> None:
    plan = build_plan(
        targets({"SPY": "0.5", "XLE": "0.5"}),
        snapshot(
            "5000",
            {"XLE": ("50", "100")},
            {"XLE": "100", "SPY": "100"},
            untradable=frozenset({"XLE"}),
        ),
        NO_RESERVE,
    )
    assert plan.held == ()
    assert [(i.symbol, i.trade_amount) for i in plan.buys] == [("SPY", D(5000))]


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


def test_a_stale_quote_holds_its_symbol_and_the_others_still_trade() -> None:
    snap = snapshot("1000", {}, {"SPY": "100", "QQQ": "50"})
    old = snap.quotes[0].model_copy(update={"timestamp": snap.taken_at - timedelta(hours=1)})
    stale = snap.model_copy(update={"quotes": (old, snap.quotes[1])})
    plan = build_plan(targets({"SPY": "0.5", "QQQ": "0.5"}), stale, NO_RESERVE)
    (qqq,) = plan.held
    assert (qqq.symbol, qqq.reason) == ("QQQ", HoldReason.STALE_QUOTE)
    assert "3600s older than the newest" in qqq.detail
    assert [(i.symbol, i.trade_amount) for i in plan.buys] == [("SPY", D(500))]


def test_a_crossed_or_zero_quote_never_reaches_the_planner() -> None:
    with pytest.raises(ValueError, match="crossed quote"):
        Quote(symbol="SPY", bid=D(101), ask=D(100), timestamp=T0)
    with pytest.raises(ValueError, match="greater than 0"):
        Quote(symbol="SPY", bid=D(0), ask=D(100), timestamp=T0)
