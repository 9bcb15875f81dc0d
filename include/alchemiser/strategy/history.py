"""Daily closes per symbol as numpy arrays: the only market data the evaluator sees.

Dates are stored as proleptic ordinals (`date.toordinal()`), closes as float64, so every
indicator is a vectorised computation over the whole history and a point-in-time lookup is one
binary search.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class SymbolHistory:
    """One symbol's closes, oldest first, one per date."""

    __slots__ = ("_days", "close", "dates", "symbol")

    def __init__(self, symbol: str, dates: IntArray, close: FloatArray) -> None:
        self.symbol = symbol
        self.dates = dates
        self.close = close
        # The dates as a list for the evaluator's scalar look-ups (a bisect on a list is several
        # times faster than numpy's searchsorted on one value); built on first use, so a
        # symbol nobody reads costs only its arrays.
        self._days: list[int] | None = None

    def day_list(self) -> list[int]:
        """Return the dates as a list of ordinals (for `bisect_right`; built once)."""
        days = self._days
        if days is None:
            days = self._days = self.dates.tolist()
        return days

    def count_until(self, day: int) -> int:
        """Return how many bars are dated on or before ordinal `day`."""
        days = self._days
        if days is None:
            days = self._days = self.dates.tolist()
        return bisect_right(days, day)

    def close_at(self, day: int) -> float | None:
        """Return the latest close on or before ordinal `day`, None when there is none."""
        n = self.count_until(day)
        return self.close.item(n - 1) if n else None


class PriceHistory:
    """Closes of many symbols; unknown symbols are simply absent."""

    def __init__(self, series: Mapping[str, SymbolHistory]) -> None:
        self._series = dict(series)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._series

    def get(self, symbol: str) -> SymbolHistory | None:
        """Return a symbol's history, or None when it has no bars."""
        return self._series.get(symbol)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the symbols with bars, sorted."""
        return tuple(sorted(self._series))

    def last_date(self) -> date | None:
        """Return the latest bar date across symbols."""
        ends = [int(s.dates[-1]) for s in self._series.values() if len(s.dates)]
        return date.fromordinal(max(ends)) if ends else None

    @classmethod
    def from_closes(
        cls, closes: Mapping[str, Iterable[tuple[date, Decimal | float]]]
    ) -> PriceHistory:
        """Build from (date, close) pairs per symbol; dates must be strictly increasing."""
        series: dict[str, SymbolHistory] = {}
        for symbol, rows in closes.items():
            pairs = list(rows)
            if not pairs:
                continue
            days = np.fromiter((d.toordinal() for d, _ in pairs), dtype=np.int64, count=len(pairs))
            values = np.fromiter((float(c) for _, c in pairs), dtype=np.float64, count=len(pairs))
            _check(symbol, days, values)
            series[symbol] = SymbolHistory(symbol, days, values)
        return cls(series)

    @classmethod
    def from_bars(cls, bars: Mapping[str, Sequence[Bar]]) -> PriceHistory:
        """Build from domain bars (already validated Decimals)."""
        series: dict[str, SymbolHistory] = {}
        for symbol, rows in bars.items():
            if not rows:
                continue
            # numpy turns each Decimal into the float `float()` gives, without a generator.
            days = np.array([b.session.toordinal() for b in rows], dtype=np.int64)
            values = np.array([b.close for b in rows], dtype=np.float64)
            _check(symbol, days, values)
            series[symbol] = SymbolHistory(symbol, days, values)
        return cls(series)


def _check(symbol: str, days: IntArray, values: FloatArray) -> None:
    steps = np.diff(days)
    if len(steps) and not bool((steps > 0).all()):
        i = int(np.argmax(steps <= 0)) + 1
        what = "duplicate" if steps[i - 1] == 0 else "out-of-order"
        raise MarketDataError(f"{symbol}: {what} bar dated {date.fromordinal(int(days[i]))}")
    bad = ~np.isfinite(values) | (values <= 0)
    if bool(bad.any()):
        i = int(np.argmax(bad))
        value = float(values[i])
        shown = "NaN" if math.isnan(value) else repr(value)
        raise MarketDataError(
            f"{symbol}: close {shown} on {date.fromordinal(int(days[i]))} is not a positive price"
        )
