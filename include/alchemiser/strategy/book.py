"""Indicator values as of a date: series computed once per (symbol, indicator, parameters).

The short-history rules of the reference engine live here: RSI is 50 and the return-based
indicators 0 when there are too few bars (each such substitution is reported as a warning),
while a moving average or EMA without enough history, or a symbol without bars, is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alchemiser.strategy import indicators as ind
from alchemiser.strategy.history import FloatArray, PriceHistory, SymbolHistory

Params = tuple[tuple[str, int], ...]
SeriesKey = tuple[str, str, Params]


class MissingDataError(Exception):
    """Raised inside the book; the evaluator re-raises it with file:line:col."""


@dataclass(frozen=True, slots=True)
class Reading:
    """An indicator value and, when a default was substituted, why."""

    value: float
    warning: str | None = None


def _compute(kind: str, close: FloatArray, p: dict[str, int]) -> FloatArray:
    formulas: dict[str, Callable[[], FloatArray]] = {
        "rsi": lambda: ind.rsi(close, p["window"]),
        "moving-average-price": lambda: ind.moving_average_price(close, p["window"]),
        "exponential-moving-average-price": lambda: ind.ema(close, p["window"]),
        "moving-average-return": lambda: ind.moving_average_return(close, p["window"]),
        "cumulative-return": lambda: ind.cumulative_return(close, p["window"]),
        "stdev-return": lambda: ind.stdev_return(close, p["window"]),
        "stdev-price": lambda: ind.stdev_price(close, p["window"]),
        "max-drawdown": lambda: ind.max_drawdown(close, p["window"]),
        "percentage-price-oscillator": lambda: ind.ppo(close, p["short-window"], p["long-window"]),
        "percentage-price-oscillator-signal": lambda: ind.ppo_signal(
            close, p["short-window"], p["long-window"], p["smooth-window"]
        ),
    }
    return formulas[kind]()


_ZERO_WHEN_SHORT = {
    "moving-average-return": 0,  # fewer than `window` bars -> 0
    "stdev-return": 0,
    "stdev-price": 0,
    "max-drawdown": 0,
    "cumulative-return": 1,  # `window` bars or fewer -> 0
}


@dataclass(frozen=True, slots=True)
class _Label:
    # Formatted only when a warning or error needs it: reads are on the hot path.
    kind: str
    symbol: str
    window: int

    def __str__(self) -> str:
        return f"{self.kind}({self.symbol}, {self.window})"


FastRead = tuple[list[int], FloatArray, int]
"""A computed series' dates, values and the fewest bars for which no short-history rule applies."""


class IndicatorBook:
    """Caches every series it computes; safe to share across as-of dates and evaluations."""

    def __init__(self, history: PriceHistory) -> None:
        self.history = history
        self._series: dict[SeriesKey, FloatArray] = {}
        self._windows: dict[Params, int] = {}

    def symbol(self, symbol: str) -> SymbolHistory:
        """Return a symbol's history or raise MissingDataError."""
        found = self.history.get(symbol)
        if found is None:
            raise MissingDataError(f"no bars for {symbol}")
        return found

    def series(self, kind: str, symbol: str, params: Params) -> FloatArray:
        """Return the whole series of one indicator (computed on first use)."""
        key = (kind, symbol, params)
        found = self._series.get(key)
        if found is None:
            found = _compute(kind, self.symbol(symbol).close, dict(params))
            self._series[key] = found
        return found

    def read(self, kind: str, symbol: str, params: Params, day: int) -> Reading:
        """Return the indicator as of ordinal `day`, applying the short-history rules."""
        hist = self.symbol(symbol)
        n = hist.count_until(day)
        if kind == "current-price":
            if n == 0:
                raise MissingDataError(f"no bars for {symbol} on or before the as-of date")
            return Reading(hist.close.item(n - 1))
        window = self._windows.get(params)
        if window is None:
            p = dict(params)
            window = self._windows[params] = p.get("window", p.get("long-window", 1))
        if kind == "rsi" and n < window:
            label = _Label(kind, symbol, window)
            return Reading(50.0, f"{label}: {n} bars < {window}, RSI taken as 50")
        if kind in _ZERO_WHEN_SHORT and n <= window - 1 + _ZERO_WHEN_SHORT[kind]:
            return Reading(0.0, f"{_Label(kind, symbol, window)}: only {n} bars, taken as 0")
        if kind == "moving-average-price" and n < window:
            label = _Label(kind, symbol, window)
            raise MissingDataError(f"{label} needs {window} bars, {symbol} has {n}")
        if n == 0:
            raise MissingDataError(f"no bars for {symbol} on or before the as-of date")
        value: float = self.series(kind, symbol, params).item(n - 1)
        if value != value:  # noqa: PLR0124 - NaN test without a call, on the hot path
            label = _Label(kind, symbol, window)
            if kind == "rsi":
                return Reading(50.0, f"{label}: undefined (no moves), RSI taken as 50")
            if kind in _ZERO_WHEN_SHORT:
                return Reading(0.0, f"{label}: undefined with {n} bars, taken as 0")
            raise MissingDataError(f"{label} is undefined with {n} bars of {symbol}")
        return Reading(value)

    def fast_read(self, kind: str, symbol: str, params: Params) -> FastRead | None:
        """Return what `read` needs for a plain value of a series it has computed, else None.

        With at least that many bars `read` returns the series value itself unless it is NaN,
        so a caller may read it directly and ask `read` only otherwise.
        """
        hist = self.history.get(symbol)
        if hist is None:
            return None
        if kind == "current-price":
            return hist.day_list(), hist.close, 1
        series = self._series.get((kind, symbol, params))
        window = self._windows.get(params)
        if series is None or window is None:
            return None
        least = window + _ZERO_WHEN_SHORT[kind] if kind in _ZERO_WHEN_SHORT else window
        if kind not in _ZERO_WHEN_SHORT and kind not in ("rsi", "moving-average-price"):
            least = 1
        return hist.day_list(), series, max(least, 1)
