"""No look-ahead, no silent survivorship: the future cannot move a decision, gaps are errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from alchemiser.backtest.engine import Backtest
from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import calendar
from alchemiser.domain.errors import ConfigError, MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.strategy.portfolio import LoadedPortfolio

SPIKE = date(2023, 6, 1)
SESSIONS = calendar().sessions_between(date(2023, 3, 1), date(2023, 6, 30))


def _spiked(bars: dict[str, tuple[Bar, ...]]) -> dict[str, tuple[Bar, ...]]:
    """Return the bars with every symbol's close tripled from SPIKE on."""
    out = {}
    for symbol, rows in bars.items():
        out[symbol] = tuple(
            b.model_copy(update={"close": b.close * 3, "high": b.high * 3})
            if b.session >= SPIKE
            else b
            for b in rows
        )
    return out


def test_a_future_price_spike_changes_no_decision_before_it(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    plain = Backtest(portfolio, PriceTable(bars), BacktestSettings()).run(SESSIONS)
    spiked = Backtest(portfolio, PriceTable(_spiked(bars)), BacktestSettings()).run(SESSIONS)
    before = [i for i, r in enumerate(plain.sessions) if r.session < SPIKE]
    assert before
    assert len(before) < len(SESSIONS)
    for i in before:
        assert spiked.sessions[i] == plain.sessions[i]
    assert [t for t in spiked.trades if t.session < SPIKE] == [
        t for t in plain.trades if t.session < SPIKE
    ]
    # The spike is real to the sessions on and after it: the books differ from then on.
    after = len(before)
    assert spiked.sessions[after].value != plain.sessions[after].value


def test_a_symbol_without_history_before_the_first_session_is_an_error_naming_it(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    late = dict(bars)
    late["TECL"] = tuple(b for b in bars["TECL"] if b.session >= date(2023, 4, 3))
    with pytest.raises(MarketDataError, match=r"TECL \(first bar 2023-04-03\): no data before"):
        Backtest(portfolio, PriceTable(late), BacktestSettings()).run(SESSIONS)


def test_a_missing_bar_inside_the_range_is_an_error_naming_symbol_and_session(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    gap = dict(bars)
    gap["SPY"] = tuple(b for b in bars["SPY"] if b.session != date(2023, 4, 12))
    with pytest.raises(MarketDataError, match="SPY: no bar on 2023-04-12"):
        Backtest(portfolio, PriceTable(gap), BacktestSettings()).run(SESSIONS)


def test_a_range_without_sessions_is_refused(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    with pytest.raises(ConfigError, match="no trading session"):
        Backtest(portfolio, PriceTable(bars), BacktestSettings()).run(())


def test_costs_move_fill_prices_and_charge_commission_per_order(
    portfolio: LoadedPortfolio, bars: dict[str, tuple[Bar, ...]]
) -> None:
    free = Backtest(portfolio, PriceTable(bars), BacktestSettings()).run(SESSIONS[:20])
    settings = BacktestSettings.model_validate({"costs": {"slippage_bps": "10", "commission": "1"}})
    costly = Backtest(portfolio, PriceTable(bars), settings).run(SESSIONS[:20])
    for trade in costly.trades:
        shift = trade.close * Decimal("0.001")
        expected = trade.close + shift if trade.side.value == "buy" else trade.close - shift
        assert trade.price == expected
        assert trade.commission == 1
    first = [t for t in costly.trades if t.session == SESSIONS[0].day]
    spent = sum((t.qty * t.price + t.commission for t in first), Decimal(0))
    assert costly.sessions[0].cash == settings.initial_cash - spent
    assert costly.sessions[-1].value < free.sessions[-1].value
