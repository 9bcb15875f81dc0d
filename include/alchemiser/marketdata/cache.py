"""BarCache: daily bars per symbol in the object store, fetched only where sessions are missing.

Key layout: `marketdata/bars/1Day/<SYMBOL>.parquet` in the run's bucket, the symbol in its
file-name form (`BRK_B`, see domain/symbols.py). A refresh fetches from
the last cached session (re-reading it, in case it was cached while still forming) up to the
as-of date; a symbol whose cache already reaches the latest session is not fetched at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import structlog

from alchemiser.domain.errors import ArtifactNotFoundError, MarketDataError
from alchemiser.domain.keys import bars_key
from alchemiser.domain.market import Bar
from alchemiser.marketdata.parquet import append, decode, decode_closes
from alchemiser.ports import MarketData, ObjectStore, SessionCalendar
from alchemiser.strategy.history import IntArray, PriceHistory, SymbolHistory

log = structlog.get_logger(__name__)

DEFAULT_LOOKBACK_DAYS = 5 * 366
"""How far back a symbol's first fetch reaches (RSI and EMA use all of it)."""


def read_cached(store: ObjectStore, symbol: str) -> tuple[Bar, ...]:
    """Return every cached bar of `symbol` as stored (empty when nothing is cached)."""
    try:
        body = store.get(bars_key(symbol))
    except ArtifactNotFoundError:
        return ()
    return decode(symbol, body)


@dataclass(frozen=True)
class RefreshStats:
    """What one `load_history` did: for logs and tests."""

    fetched: tuple[str, ...]
    fresh: tuple[str, ...]
    unknown: tuple[str, ...]


class BarCache:
    """Serve validated daily bars on or before an as-of date, refreshing the cache first."""

    def __init__(
        self,
        store: ObjectStore,
        source: MarketData,
        calendar: SessionCalendar,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    ) -> None:
        self._store = store
        self._source = source
        self._calendar = calendar
        self._lookback = timedelta(days=lookback_days)
        self.last_refresh = RefreshStats((), (), ())

    def _body(self, symbol: str) -> bytes | None:
        try:
            return self._store.get(bars_key(symbol))
        except ArtifactNotFoundError:
            return None

    def load_history(self, symbols: Sequence[str], as_of: date) -> PriceHistory:
        """Return the closes dated on or before `as_of` per symbol, straight into arrays.

        Unknown symbols are left out. No `Bar` is made for a cached row: only the fetched ones.
        """
        wanted = sorted(set(symbols))
        sessions = self._calendar.sessions(as_of - self._lookback, as_of)
        latest = (sessions[-1] if sessions else as_of).toordinal()
        bodies = {s: self._body(s) for s in wanted}
        cached = {s: decode_closes(s, b) for s, b in bodies.items() if b is not None}
        starts: dict[date, list[str]] = {}
        fresh: list[str] = []
        for symbol in wanted:
            have = cached.get(symbol)
            if have is not None and len(have.dates) and have.dates[-1] >= latest:
                fresh.append(symbol)
            else:
                start = _last_day(have) or as_of - self._lookback
                starts.setdefault(start, []).append(symbol)
        result: dict[str, SymbolHistory] = {}
        unknown: list[str] = []
        for start, group in sorted(starts.items()):
            fetched = self._source.get_daily_bars(group, start, as_of)
            for symbol in group:
                new = fetched.get(symbol, ())
                body, merged = append(symbol, bodies[symbol], start, new)
                if not len(merged.dates):
                    unknown.append(symbol)
                    continue
                self._check(symbol, merged.dates, sessions)
                if new:
                    self._store.put(bars_key(symbol), body)
                result[symbol] = merged
        for symbol in fresh:
            have = cached[symbol]
            self._check(symbol, have.dates, sessions)
            n = have.count_until(as_of.toordinal())
            result[symbol] = SymbolHistory(symbol, have.dates[:n], have.close[:n])
        self.last_refresh = RefreshStats(
            tuple(s for g in starts.values() for s in g if s not in unknown),
            tuple(fresh),
            tuple(unknown),
        )
        if unknown:
            log.warning("no bars for symbols", symbols=",".join(unknown), as_of=str(as_of))
        return PriceHistory(result)

    def _check(self, symbol: str, dates: IntArray, sessions: list[date]) -> None:
        """Require a bar for every calendar session between the first and the last bar."""
        if not len(dates) or not sessions:
            return
        days = np.array([d.toordinal() for d in sessions], dtype=np.int64)
        days = days[(days >= dates[0]) & (days <= dates[-1])]
        missing = days[~np.isin(days, dates)]
        if len(missing):
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise MarketDataError(
                f"{symbol}: no bar for session {date.fromordinal(int(missing[0]))}{more} "
                f"(gap in history) (cache key {bars_key(symbol)})"
            )


def _last_day(history: SymbolHistory | None) -> date | None:
    if history is None or not len(history.dates):
        return None
    return date.fromordinal(int(history.dates[-1]))
