"""Closing prices by session, exact, with the survivorship rule of the backtest.

A symbol a strategy names must have bars from before the first session: a symbol that starts
later (listed later, or missing from the data) is an error naming it, never a silent zero or a
silently dropped candidate. Start the backtest at its first bar or remove it from the strategy.

Decisions read the float columns of `history`; fills and valuations read exact `Decimal`
closes. Those are kept as given (the bars' Decimals, or a file's text) and made into a
`Decimal` only for the sessions something asks about: a backtest reads a few symbols' closes per
session, not every row of every file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.strategy.history import PriceHistory

ExactCloses = Sequence[Decimal] | Sequence[str]
"""One symbol's closes, row for row with its history: Decimals, or text `Decimal` reads."""


class PriceTable:
    """Each symbol's close on each session it has a bar for."""

    def __init__(self, bars: Mapping[str, Sequence[Bar]]) -> None:
        self._start(
            PriceHistory.from_bars(bars), {s: [b.close for b in rows] for s, rows in bars.items()}
        )

    @classmethod
    def from_columns(cls, history: PriceHistory, exact: Mapping[str, ExactCloses]) -> PriceTable:
        """Build from checked columns: `exact[s][i]` is the close of `history.get(s)`'s row i."""
        table = cls.__new__(cls)
        table._start(history, exact)
        return table

    def _start(self, history: PriceHistory, exact: Mapping[str, ExactCloses]) -> None:
        self.history = history
        self._exact = dict(exact)
        self._first = {s: date.fromordinal(int(h.dates[0])) for s in exact if (h := history.get(s))}
        self._seen: dict[tuple[str, date], Decimal] = {}

    def close(self, symbol: str, session: date) -> Decimal:
        """Return the close of `symbol` on `session`; a missing bar is an error naming both."""
        found = self._seen.get((symbol, session))
        if found is None:
            found = self._seen[symbol, session] = self._read(symbol, session)
        return found

    def _read(self, symbol: str, session: date) -> Decimal:
        series, day = self.history.get(symbol), session.toordinal()
        row = series.count_until(day) - 1 if series is not None else -1
        if series is None or row < 0 or series.day_list()[row] != day:
            raise MarketDataError(
                f"{symbol}: no bar on {session} in the prices; a backtest fills at every "
                "session's close, so each held or targeted symbol needs that bar"
            )
        found = self._exact[symbol][row]
        return found if isinstance(found, Decimal) else Decimal(found)

    def closes(self, symbols: Iterable[str], session: date) -> dict[str, Decimal]:
        """Return the closes of `symbols` on `session`, sorted by symbol."""
        return {s: self.close(s, session) for s in sorted(set(symbols))}

    def require(self, symbols: Iterable[str], first_session: date, where: str) -> None:
        """Fail, naming each symbol, unless every one has a bar on or before `first_session`."""
        missing = sorted(s for s in set(symbols) if s not in self._first)
        if missing:
            raise MarketDataError(f"no prices for {', '.join(missing)} in {where}")
        late = sorted(
            f"{s} (first bar {self._first[s]})"
            for s in set(symbols)
            if self._first[s] > first_session
        )
        if late:
            raise MarketDataError(
                f"{', '.join(late)}: no data before the first session {first_session}; a "
                "backtest never treats a missing history as zero: start on or after that date "
                "or remove the symbol"
            )
