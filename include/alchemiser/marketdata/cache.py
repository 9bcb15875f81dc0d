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

import structlog

from alchemiser.domain.errors import ArtifactNotFoundError, MarketDataError
from alchemiser.domain.keys import bars_key
from alchemiser.domain.market import Bar
from alchemiser.marketdata.parquet import decode, encode
from alchemiser.marketdata.validation import check_series
from alchemiser.ports import MarketData, ObjectStore, SessionCalendar

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
    """What one `load` did: for logs and tests."""

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

    def _read(self, symbol: str) -> tuple[Bar, ...]:
        return read_cached(self._store, symbol)

    def load(self, symbols: Sequence[str], as_of: date) -> dict[str, tuple[Bar, ...]]:
        """Return bars dated on or before `as_of` per symbol; unknown symbols are left out."""
        wanted = sorted(set(symbols))
        sessions = self._calendar.sessions(as_of - self._lookback, as_of)
        latest = sessions[-1] if sessions else as_of
        cached = {s: self._read(s) for s in wanted}
        starts: dict[date, list[str]] = {}
        fresh: list[str] = []
        for symbol in wanted:
            have = cached[symbol]
            if have and have[-1].session >= latest:
                fresh.append(symbol)
            else:
                start = have[-1].session if have else as_of - self._lookback
                starts.setdefault(start, []).append(symbol)
        result: dict[str, tuple[Bar, ...]] = {}
        unknown: list[str] = []
        for start, group in sorted(starts.items()):
            fetched = self._source.get_daily_bars(group, start, as_of)
            for symbol in group:
                new = fetched.get(symbol, ())
                merged = tuple(b for b in cached[symbol] if b.session < start) + tuple(new)
                if not merged:
                    unknown.append(symbol)
                    continue
                self._check(symbol, merged, sessions)
                if new:
                    self._store.put(bars_key(symbol), encode(merged))
                result[symbol] = merged
        for symbol in fresh:
            self._check(symbol, cached[symbol], sessions)
            result[symbol] = tuple(b for b in cached[symbol] if b.session <= as_of)
        self.last_refresh = RefreshStats(
            tuple(s for g in starts.values() for s in g if s not in unknown),
            tuple(fresh),
            tuple(unknown),
        )
        if unknown:
            log.warning("no bars for symbols", symbols=",".join(unknown), as_of=str(as_of))
        return {s: result[s] for s in sorted(result)}

    def _check(self, symbol: str, bars: tuple[Bar, ...], sessions: list[date]) -> None:
        try:
            check_series(symbol, bars, sessions)
        except MarketDataError as exc:
            raise MarketDataError(f"{exc} (cache key {bars_key(symbol)})") from exc
