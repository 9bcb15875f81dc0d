"""Price rules and generators, tested without a server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paper_exchange.prices import generate_bars, is_on_tick, round_to_tick, tick_for

SESSIONS = [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)]


@pytest.mark.parametrize(
    ("price", "on_tick"),
    [("1.00", True), ("1.005", False), ("0.9999", True), ("0.99995", False), ("250.1", True)],
)
def test_tick_is_penny_above_one_dollar_and_hundredth_below(price: str, on_tick: bool) -> None:
    assert is_on_tick(Decimal(price)) is on_tick


def test_round_to_tick_uses_the_price_band() -> None:
    assert tick_for(Decimal("0.5")) == Decimal("0.0001")
    assert round_to_tick(Decimal("12.345")) == Decimal("12.35")
    assert round_to_tick(Decimal("0.12345")) == Decimal("0.1235")


@given(seed=st.integers(0, 10_000), symbol=st.sampled_from(["SPY", "UVXY", "BRK.B"]))
def test_generated_bars_are_consistent_and_on_tick(seed: int, symbol: str) -> None:
    for bar in generate_bars(seed, symbol, SESSIONS):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert all(is_on_tick(p) for p in (bar.open, bar.high, bar.low, bar.close))
        assert bar.volume > 0


def test_generator_is_deterministic_per_symbol_and_independent_of_others() -> None:
    assert generate_bars(7, "SPY", SESSIONS) == generate_bars(7, "SPY", SESSIONS)
    assert generate_bars(7, "SPY", SESSIONS) != generate_bars(7, "QQQ", SESSIONS)
