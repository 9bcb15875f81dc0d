"""Indicator formulas against an independent pandas computation, and the short-history rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alchemiser.strategy import indicators as ind
from alchemiser.strategy.book import IndicatorBook, MissingDataError
from alchemiser.strategy.history import FloatArray, PriceHistory
from tests.strategy.symphony_gen import synthetic_closes

CLOSES = synthetic_closes(["AAA"], date(2020, 1, 1), date(2021, 12, 31))["AAA"]
CLOSE = np.array([float(c) for _, c in CLOSES])
S = pd.Series(CLOSE)


def _pandas_rsi(n: int) -> pd.Series:
    d = S.diff().fillna(0)
    gain = d.where(d > 0, 0.0).ewm(alpha=1 / n, adjust=False).mean()
    loss = (-d.where(d < 0, 0.0)).ewm(alpha=1 / n, adjust=False).mean()
    return (100 - 100 / (1 + gain.divide(loss, fill_value=0))).fillna(50)


def _pandas_mdd(n: int) -> pd.Series:
    return S.rolling(n).apply(lambda x: (1 - x / np.maximum.accumulate(x)).max() * 100, raw=True)


# name -> (ours, pandas's) as functions of the window.
REFERENCE: dict[str, tuple[Callable[[int], FloatArray], Callable[[int], Any]]] = {
    "rsi": (lambda n: ind.rsi(CLOSE, n), _pandas_rsi),
    "ema": (
        lambda n: ind.ema(CLOSE, n),
        lambda n: S.ewm(span=n, adjust=False).mean().mask(S.index < n - 1),
    ),
    "sma": (lambda n: ind.moving_average_price(CLOSE, n), lambda n: S.rolling(n).mean()),
    "mar": (
        lambda n: ind.moving_average_return(CLOSE, n),
        lambda n: S.pct_change().rolling(n).mean() * 100,
    ),
    "cum": (lambda n: ind.cumulative_return(CLOSE, n), lambda n: (S / S.shift(n) - 1) * 100),
    "stdev-return": (
        lambda n: ind.stdev_return(CLOSE, n),
        lambda n: (S.pct_change() * 100).rolling(n).std(ddof=0) * np.sqrt(252),
    ),
    "stdev-price": (lambda n: ind.stdev_price(CLOSE, n), lambda n: S.rolling(n).std()),
    "mdd": (lambda n: ind.max_drawdown(CLOSE, n), _pandas_mdd),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("window", [2, 10, 14, 60])
def test_each_indicator_matches_an_independent_pandas_computation(name: str, window: int) -> None:
    ours, theirs = REFERENCE[name]
    expected = theirs(window).to_numpy(dtype=float)
    got = ours(window)
    if name == "rsi":
        got = np.where(np.isnan(got), 50.0, got)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_ppo_is_the_ema_spread_in_percent_and_its_signal_smooths_it() -> None:
    fast = S.ewm(span=12, adjust=False).mean()
    slow = S.ewm(span=26, adjust=False).mean()
    expected = ((fast - slow) / slow * 100).mask(S.index < 25)
    np.testing.assert_allclose(ind.ppo(CLOSE, 12, 26), expected, rtol=1e-9, equal_nan=True)
    signal = expected.ewm(span=9, adjust=False).mean()
    np.testing.assert_allclose(ind.ppo_signal(CLOSE, 12, 26, 9), signal, rtol=1e-9, equal_nan=True)


def test_rsi_by_hand_on_a_tiny_series() -> None:
    # Deltas 0, +1, -1 with alpha 1/2: gains 0, .5, .25; losses 0, 0, .5 -> RSI 100 - 100/1.5.
    got = ind.rsi(np.array([10.0, 11.0, 10.0]), 2)
    assert got[1] == 100.0
    assert got[2] == pytest.approx(100 - 100 / 1.5)


def _book(n_bars: int) -> tuple[IndicatorBook, int]:
    rows = CLOSES[:n_bars]
    return IndicatorBook(PriceHistory.from_closes({"AAA": rows})), rows[-1][0].toordinal()


@pytest.mark.parametrize(
    ("kind", "window", "bars", "value"),
    [
        ("rsi", 14, 13, 50.0),
        ("moving-average-return", 21, 20, 0.0),
        ("cumulative-return", 60, 60, 0.0),
        ("stdev-return", 6, 5, 0.0),
        ("stdev-price", 6, 5, 0.0),
        ("max-drawdown", 60, 59, 0.0),
    ],
)
def test_short_history_substitutes_a_value_and_says_so(
    kind: str, window: int, bars: int, value: float
) -> None:
    book, day = _book(bars)
    reading = book.read(kind, "AAA", (("window", window),), day)
    assert reading.value == value
    assert reading.warning is not None
    assert f"{kind}(AAA, {window})" in reading.warning


def test_short_history_for_a_moving_average_is_an_error() -> None:
    book, day = _book(199)
    with pytest.raises(MissingDataError, match="needs 200 bars, AAA has 199"):
        book.read("moving-average-price", "AAA", (("window", 200),), day)
    with pytest.raises(MissingDataError, match="undefined"):
        book.read("exponential-moving-average-price", "AAA", (("window", 200),), day)
    with pytest.raises(MissingDataError, match="no bars for ZZZ"):
        book.read("rsi", "ZZZ", (("window", 10),), day)


def test_a_reading_uses_only_bars_on_or_before_the_day() -> None:
    book, _ = _book(len(CLOSES))
    mid_day, mid_close = CLOSES[300]
    weekend = mid_day.toordinal() + (5 - mid_day.weekday()) if mid_day.weekday() == 4 else None
    assert book.read("current-price", "AAA", (), mid_day.toordinal()).value == float(mid_close)
    if weekend is not None:
        assert book.read("current-price", "AAA", (), weekend).value == float(mid_close)
    full = ind.rsi(CLOSE, 10)[300]
    truncated = ind.rsi(CLOSE[:301], 10)[-1]
    assert (
        book.read("rsi", "AAA", (("window", 10),), mid_day.toordinal()).value == full == truncated
    )


@pytest.mark.parametrize("window", [2, 3, 10, 14, 60])
def test_rsi_is_exactly_the_wilder_mean_of_gains_over_losses_flat_days_included(
    window: int,
) -> None:
    # RSI runs the gain and loss recursions in one fused loop; it must give the very floats of
    # `ewm_mean` (pandas' recursion) on each series, where repeated closes and reversals are
    # where a reordered computation would drift.
    close = CLOSE.copy()
    close[100:110] = close[100]
    close[200:204] = [close[199], close[198], close[199], close[198]]
    delta = np.diff(close, prepend=close[0])
    gain = ind.ewm_mean(np.where(delta > 0, delta, 0.0), 1 / window)
    loss = ind.ewm_mean(np.where(delta < 0, -delta, 0.0), 1 / window)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = 100.0 - 100.0 / (1.0 + gain / loss)
    np.testing.assert_array_equal(ind.rsi(close, window), expected)
