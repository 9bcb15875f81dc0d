"""Closing prices by session, exact, with the survivorship rule of the backtest.

A symbol a strategy names must have bars from before the first session: a symbol that starts
later (listed later, or missing from the data) is an error naming it, never a silent zero or a
silently dropped candidate. Start the backtest at its first bar or remove it from the strategy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.strategy.history import PriceHistory


class PriceTable:
    """Each symbol's close on each session it has a bar for."""

    def __init__(self, bars: Mapping[str, Sequence[Bar]]) -> None:
        self._closes = {s: {b.session: b.close for b in rows} for s, rows in bars.items()}
        self._first = {s: rows[0].session for s, rows in bars.items() if rows}
        self.history = PriceHistory.from_bars(bars)

    def close(self, symbol: str, session: date) -> Decimal:
        """Return the close of `symbol` on `session`; a missing bar is an error naming both."""
        found = self._closes.get(symbol, {}).get(session)
        if found is None:
            raise MarketDataError(
                f"{symbol}: no bar on {session} in the prices; a backtest fills at every "
                "session's close, so each held or targeted symbol needs that bar"
            )
        return found

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
