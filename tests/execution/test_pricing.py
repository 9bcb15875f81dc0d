"""A walk's pricing maths and trading windows, without a server (ticks, steps, collar, guards)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from alchemiser.domain.errors import MarketClosedError
from alchemiser.domain.market import MarketClock, Quote
from alchemiser.domain.plan import Side
from alchemiser.domain.sessions import NEW_YORK
from alchemiser.execution.hours import PhaseWindow, trading_window
from alchemiser.execution.pricing import (
    collared_price,
    on_tick,
    price_moved,
    size_ticks,
    step_price,
    suspicious,
    tick_for,
)
from alchemiser.execution.settings import ExecutionSettings
from tests.builders import D
from tests.fakes import T0, FakeClock

SETTINGS = ExecutionSettings()

# Prices from a tenth of a cent to $5,000, in hundredths of a tick: on and off the grid.
prices = st.decimals(min_value=D("0.001"), max_value=D(5000), places=6, allow_nan=False)
sides = st.sampled_from([Side.BUY, Side.SELL])


def quote(bid: str | Decimal, ask: str | Decimal, symbol: str = "SPY", age: float = 0) -> Quote:
    return Quote(symbol=symbol, bid=D(bid), ask=D(ask), timestamp=T0 - timedelta(seconds=age))


def on_grid(price: Decimal) -> bool:
    return price == price.quantize(tick_for(price))


@pytest.mark.parametrize(
    ("price", "tick"),
    [("1", "0.01"), ("1.0001", "0.01"), ("0.9999", "0.0001"), ("0.05", "0.0001"), ("450", "0.01")],
)
def test_the_tick_is_a_penny_from_a_dollar_up_and_a_hundredth_of_one_below(
    price: str, tick: str
) -> None:
    assert tick_for(D(price)) == D(tick)


@pytest.mark.parametrize(
    ("raw", "side", "expected"),
    [
        ("100.019", Side.BUY, "100.01"),  # a buy rounds down
        ("100.011", Side.SELL, "100.02"),  # a sell rounds up
        ("100.01", Side.BUY, "100.01"),  # already on tick: unchanged
        ("0.123456", Side.BUY, "0.1234"),  # sub-dollar: $0.0001 ticks
        ("0.123411", Side.SELL, "0.1235"),
        ("0.99995", Side.SELL, "1.00"),  # rounds up onto $1: the penny grid from there
        ("0.99999", Side.BUY, "0.9999"),
        ("1.004", Side.BUY, "1.00"),
        ("1.0001", Side.SELL, "1.01"),  # just over $1 a sell goes to the next penny
    ],
)
def test_on_tick_rounds_in_the_direction_that_never_pays_more(
    raw: str, side: Side, expected: str
) -> None:
    assert on_tick(D(raw), side) == D(expected)


@given(price=prices, side=sides)
def test_a_buy_never_rounds_up_and_a_sell_never_down_and_both_land_on_tick(
    price: Decimal, side: Side
) -> None:
    rounded = on_tick(price, side)
    assert on_grid(rounded)
    if side is Side.BUY:
        assert rounded <= price
        assert price - rounded < tick_for(price)
    else:
        assert rounded >= price
        assert rounded - price < tick_for(rounded)


@pytest.mark.parametrize(
    ("side", "step", "extra", "expected"),
    [
        (Side.BUY, 0, 0, "100.05"),  # mid
        (Side.BUY, 1, 0, "100.07"),  # 0.75 of the way: 100.075 rounded down
        (Side.BUY, 2, 0, "100.10"),  # the far touch
        (Side.BUY, 0, 2, "100.07"),  # two extra ticks for a large order
        (Side.BUY, 2, 2, "100.10"),  # clamped to the ask, never through it
        (Side.SELL, 0, 0, "100.05"),
        (Side.SELL, 1, 0, "100.03"),  # 100.025 rounded up
        (Side.SELL, 2, 1, "100.00"),  # clamped to the bid
    ],
)
def test_step_prices_walk_from_mid_to_the_far_touch_and_stay_inside(
    side: Side, step: int, extra: int, expected: str
) -> None:
    assert step_price(quote("100.00", "100.10"), side, step, extra, SETTINGS) == D(expected)


@given(
    bid=st.decimals(min_value=D("0.01"), max_value=D(2000), places=2),
    ticks=st.integers(0, 400),
    side=sides,
    step=st.integers(0, 5),
    extra=st.integers(0, 2),
)
def test_every_step_price_is_on_tick_between_the_touches(
    bid: Decimal, ticks: int, side: Side, step: int, extra: int
) -> None:
    bid = on_tick(bid, Side.BUY)
    ask = bid + tick_for(bid) * ticks
    price = step_price(quote(bid, ask), side, step, extra, SETTINGS)
    assert bid <= price <= ask
    assert on_grid(price)


@given(bid=st.decimals(min_value=D("0.01"), max_value=D(2000), places=2), side=sides)
def test_later_steps_are_never_less_aggressive(bid: Decimal, side: Side) -> None:
    bid = on_tick(bid, Side.BUY)
    q = quote(bid, bid + tick_for(bid) * 7)
    walk = [step_price(q, side, s, 0, SETTINGS) for s in range(SETTINGS.limit_steps)]
    assert walk == sorted(walk, reverse=side is Side.SELL)


@pytest.mark.parametrize(
    ("qty", "displayed", "ticks"),
    [
        ("100", None, 0),  # no displayed size: no guess
        ("100", 0, 0),
        ("30", 100, 0),  # exactly 30%: not over
        ("31", 100, 1),
        ("80", 100, 1),
        ("81", 100, 2),
        ("5000", 100, 2),
    ],
)
def test_orders_large_against_the_far_side_start_more_aggressive(
    qty: str, displayed: int | None, ticks: int
) -> None:
    assert size_ticks(D(qty), displayed, SETTINGS) == ticks


@pytest.mark.parametrize(
    ("bid", "ask", "side", "collar", "expected"),
    [
        ("99.90", "100.00", Side.BUY, "50", "100.50"),
        ("99.90", "100.01", Side.BUY, "50", "100.51"),  # 100.51005 rounded down
        ("99.90", "100.00", Side.SELL, "50", "99.41"),  # 99.4005 rounded up
        ("0.4990", "0.5000", Side.BUY, "50", "0.5025"),  # sub-dollar ticks
        ("1.00", "1.01", Side.SELL, "50", "0.9950"),  # through $1 onto the sub-penny grid
        ("0.9990", "0.9999", Side.BUY, "50", "1.00"),  # 1.0048995 onto the penny grid, down
        ("99.90", "100.00", Side.BUY, "0", "100.00"),  # no collar: the far touch itself
    ],
)
def test_the_final_limit_goes_through_the_far_touch_by_the_collar_at_most(
    bid: str, ask: str, side: Side, collar: str, expected: str
) -> None:
    assert collared_price(quote(bid, ask), side, D(collar)) == D(expected)


@given(
    bid=st.decimals(min_value=D("0.01"), max_value=D(2000), places=2),
    ticks=st.integers(0, 50),
    side=sides,
    collar=st.decimals(min_value=D(0), max_value=D(1000), places=1),
)
def test_a_collared_limit_is_marketable_on_tick_and_never_beyond_its_collar(
    bid: Decimal, ticks: int, side: Side, collar: Decimal
) -> None:
    bid = on_tick(bid, Side.BUY)
    q = quote(bid, bid + tick_for(bid) * ticks)
    price = collared_price(q, side, collar)
    assert on_grid(price)
    if side is Side.BUY:
        assert q.ask <= price <= q.ask * (1 + collar / 10_000)
    else:
        assert q.bid * (1 - collar / 10_000) <= price <= q.bid


def test_a_symbol_override_sets_its_own_collar() -> None:
    settings = ExecutionSettings.model_validate_json(
        '{"symbol_overrides": {"UVXY": {"final_collar_bps": 200}}}'
    )
    assert settings.collar_bps_for("UVXY") == 200
    assert settings.collar_bps_for("SPY") == SETTINGS.final_collar_bps == 50


@pytest.mark.parametrize(
    ("bid", "ask", "age", "problem"),
    [
        ("100.00", "100.04", 0, None),  # 4 bps: a liquid ETF
        ("100.00", "100.50", 0, None),  # 50 bps: at the default guard
        ("100.00", "100.51", 0, "spread 50.9 bps of mid is over 50 bps"),
        ("100.00", "110.00", 0, "spread 952.4 bps"),  # the old default let 10% through
        ("1.00", "1.01", 0, None),  # one tick is never too wide, even at 100 bps
        ("1.00", "1.02", 0, "spread 198.0 bps"),
        ("0.0500", "0.0501", 0, None),
        ("0.005", "0.006", 0, "price under 0.01"),
        ("100.00", "100.04", 61, "stale quote: 61 s old"),
        ("100.00", "100.00", 0, None),  # locked: no spread to walk, not suspicious
    ],
)
def test_the_spread_guard_refuses_wide_stale_and_tiny_quotes(
    bid: str, ask: str, age: float, problem: str | None
) -> None:
    found = suspicious(quote(bid, ask, age=age), SETTINGS, T0)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_a_crossed_quote_is_refused_not_walked() -> None:
    # Quote refuses to be built crossed; one that slipped past validation must not get through.
    with pytest.raises(ValidationError, match="crossed quote"):
        quote("100.10", "100.00")
    crossed = Quote.model_construct(symbol="SPY", bid=D("100.10"), ask=D("100.00"), timestamp=T0)
    assert suspicious(crossed, SETTINGS, T0) == "crossed quote (bid 100.10 > ask 100.00)"


def test_a_symbol_override_widens_or_tightens_the_spread_guard() -> None:
    settings = SETTINGS.model_copy(
        update={
            "symbol_overrides": ExecutionSettings.model_validate(
                {
                    "symbol_overrides": {
                        "ARKK": {"max_spread_bps": 150},
                        "SPY": {"max_spread_bps": 3},
                    }
                }
            ).symbol_overrides
        }
    )
    assert suspicious(quote("100.00", "101.00", "ARKK"), settings, T0) is None
    assert suspicious(quote("100.00", "100.04", "SPY"), settings, T0) is not None
    assert suspicious(quote("100.00", "100.04", "QQQ"), settings, T0) is None


def test_settings_refuse_an_override_named_twice_and_the_retired_fraction() -> None:
    with pytest.raises(ValidationError, match="names a symbol twice"):
        ExecutionSettings(
            symbol_overrides=[{"symbol": "SPY"}, {"symbol": "SPY", "max_spread_bps": 5}]
        )
    with pytest.raises(ValidationError, match="max_spread_fraction"):
        ExecutionSettings.model_validate({"max_spread_fraction": "0.1"})


@pytest.mark.parametrize(
    ("plan", "bid", "ask", "moved"),
    [
        ("100", "99.99", "100.01", None),
        ("100", "104.99", "105.01", None),  # exactly 5%: still within
        ("100", "105.01", "105.03", "price moved 5.0% from the plan's 100 to 105.02"),
        ("100", "89.99", "90.01", "price moved 10.0% from the plan's 100 to 90.00"),  # either way
    ],
)
def test_a_price_too_far_from_the_plan_s_is_a_reason_to_re_plan(
    plan: str, bid: str, ask: str, moved: str | None
) -> None:
    found = price_moved(D(plan), quote(bid, ask), SETTINGS.max_price_move_fraction)
    if moved is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(moved)
        assert found.endswith("walk stopped, re-plan")


@dataclass
class VenueClock:
    """The two broker calls a phase window needs: the venue's clock and a session's hours."""

    now: datetime
    open_at: datetime = datetime(2026, 11, 20, 9, 30, tzinfo=NEW_YORK)
    close_at: datetime = datetime(2026, 11, 20, 16, 0, tzinfo=NEW_YORK)

    def get_clock(self) -> MarketClock:
        is_open = self.open_at <= self.now < self.close_at
        return MarketClock(
            timestamp=self.now,
            is_open=is_open,
            next_open=self.open_at + timedelta(days=1),
            next_close=self.close_at,
        )

    def get_session_hours(self, session: date) -> tuple[datetime, datetime]:
        assert session == self.open_at.date()
        return self.open_at, self.close_at


def _ny(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=NEW_YORK)


def _window(venue: VenueClock, ours: datetime = T0) -> PhaseWindow:
    return trading_window(venue, FakeClock(ours), SETTINGS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("at", "refused"),
    [
        ((9, 0), "market closed"),
        ((9, 31), "orders wait until 2026-11-20T09:35:00-05:00 (open_delay_minutes=5)"),
        ((9, 34), "orders wait until"),
        ((15, 55), "walks end 5 min before it"),
        ((15, 59), "walks end 5 min before it"),
        ((16, 0), "market closed"),
    ],
)
def test_no_orders_in_the_open_delay_the_close_buffer_or_a_closed_market(
    at: tuple[int, int], refused: str
) -> None:
    with pytest.raises(MarketClosedError, match=re.escape(refused)):
        _window(VenueClock(_ny(*at)))


def test_a_window_in_the_middle_of_the_day_gets_the_full_walk_and_market_time() -> None:
    window = _window(VenueClock(_ny(9, 35)))  # the first minute after the open delay
    assert window.walk_deadline == T0 + timedelta(seconds=SETTINGS.walk_seconds)
    assert window.hard_deadline == T0 + timedelta(
        seconds=SETTINGS.walk_seconds + SETTINGS.market_fill_seconds
    )


@pytest.mark.parametrize(
    ("close", "at", "left"),
    [
        ((16, 0), (15, 52), 180),  # 3 minutes to the 15:55 stop
        ((13, 0), (12, 52), 180),  # an early close moves the stop to 12:55
        ((13, 0), (12, 49), 360),  # the whole 6 minutes fit
    ],
)
def test_the_close_buffer_cuts_the_window_early_closes_included(
    close: tuple[int, int], at: tuple[int, int], left: int
) -> None:
    window = _window(VenueClock(_ny(*at), close_at=_ny(*close)))
    assert window.hard_deadline == T0 + timedelta(seconds=left)
    # The final orders keep their time; the limits give way first.
    assert window.walk_deadline == max(
        T0, window.hard_deadline - timedelta(seconds=SETTINGS.market_fill_seconds)
    )


def test_an_early_close_refuses_what_a_normal_day_would_allow() -> None:
    with pytest.raises(MarketClosedError, match="walks end 5 min before it"):
        _window(VenueClock(_ny(12, 56), close_at=_ny(13, 0)))
    assert _window(VenueClock(_ny(12, 56))).hard_deadline > T0


def test_deadlines_come_from_the_broker_s_clock_laid_onto_ours() -> None:
    # Our clock is 7 minutes behind the venue's: the distance to the close is what counts.
    ours = _ny(15, 45) - timedelta(minutes=7)
    window = _window(VenueClock(_ny(15, 52)), ours)
    assert window.hard_deadline == ours + timedelta(minutes=3)
    assert window.broker_time(ours + timedelta(seconds=30)) == _ny(
        15,
        52,
    ) + timedelta(seconds=30)
