"""The bar cache: Parquet round trip, incremental refresh, and bad data rejected by name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser.calendars.trading import calendar
from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.keys import bars_key
from alchemiser.domain.market import Bar, Quote
from alchemiser.marketdata.cache import BarCache, read_cached
from alchemiser.marketdata.csvdir import read_csv_dir
from alchemiser.marketdata.parquet import decode, encode
from alchemiser.marketdata.validation import check_series, to_bar
from alchemiser.ports import ObjectStore
from tests.fakes import FakeStore, WeekdayCalendar
from tests.strategy.symphony_gen import synthetic_bars

START, END = date(2024, 1, 1), date(2024, 3, 29)
BARS = synthetic_bars(["AAA", "BBB"], START, END)


@dataclass
class CountingSource:
    """A MarketData fake that serves `bars` and records every request."""

    bars: dict[str, tuple[Bar, ...]]
    requests: list[tuple[tuple[str, ...], date, date]] = field(default_factory=list)

    def get_daily_bars(
        self, symbols: Sequence[str], start: date, end: date
    ) -> dict[str, tuple[Bar, ...]]:
        self.requests.append((tuple(symbols), start, end))
        return {
            s: tuple(b for b in self.bars[s] if start <= b.session <= end)
            for s in symbols
            if s in self.bars
        }

    def get_latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        raise NotImplementedError


def test_parquet_round_trip_keeps_exact_decimals() -> None:
    bars = BARS["AAA"]
    assert decode("AAA", encode(bars)) == bars


def load_bars(
    cache: BarCache, store: ObjectStore, symbols: Sequence[str], as_of: date
) -> dict[str, tuple[Bar, ...]]:
    """Load through the cache, then read back the exact cached `Bar`s up to `as_of`."""
    history = cache.load_history(symbols, as_of)
    return {
        s: tuple(b for b in read_cached(store, s) if b.session <= as_of) for s in history.symbols
    }


def test_first_load_fetches_and_writes_then_a_fresh_cache_fetches_nothing() -> None:
    store, source = FakeStore(), CountingSource(BARS)
    cache = BarCache(store, source, WeekdayCalendar(), lookback_days=365)
    first = load_bars(cache, store, ["AAA", "BBB"], END)
    assert first == BARS
    assert bars_key("AAA") == "marketdata/bars/1Day/AAA.parquet"
    assert set(store.objects) == {bars_key("AAA"), bars_key("BBB")}
    assert len(source.requests) == 1
    again = load_bars(cache, store, ["AAA", "BBB"], END)
    assert again == BARS
    assert len(source.requests) == 1
    assert cache.last_refresh.fresh == ("AAA", "BBB")


def test_refresh_fetches_only_from_the_last_cached_session() -> None:
    store = FakeStore()
    early = {
        s: tuple(b for b in rows if b.session <= date(2024, 2, 29)) for s, rows in BARS.items()
    }
    BarCache(store, CountingSource(early), WeekdayCalendar()).load_history(
        ["AAA"], date(2024, 2, 29)
    )
    source = CountingSource(BARS)
    loaded = load_bars(BarCache(store, source, WeekdayCalendar()), store, ["AAA"], END)
    assert source.requests == [(("AAA",), date(2024, 2, 29), END)]
    assert loaded["AAA"] == BARS["AAA"]
    assert decode("AAA", store.get(bars_key("AAA"))) == BARS["AAA"]


def test_an_earlier_as_of_date_is_served_from_the_cache_truncated() -> None:
    store, source = FakeStore(), CountingSource(BARS)
    cache = BarCache(store, source, WeekdayCalendar())
    cache.load_history(["AAA"], END)
    earlier = load_bars(cache, store, ["AAA"], date(2024, 2, 1))
    assert earlier["AAA"][-1].session == date(2024, 2, 1)
    assert len(source.requests) == 1


def test_unknown_symbols_are_left_out_not_cached() -> None:
    store = FakeStore()
    cache = BarCache(store, CountingSource(BARS), WeekdayCalendar())
    loaded = load_bars(cache, store, ["AAA", "ZZZ"], END)
    assert set(loaded) == {"AAA"}
    assert bars_key("ZZZ") not in store.objects


def test_a_gap_against_the_calendar_is_rejected_naming_symbol_and_date() -> None:
    gappy = {"AAA": tuple(b for b in BARS["AAA"] if b.session != date(2024, 2, 6))}
    cache = BarCache(FakeStore(), CountingSource(gappy), WeekdayCalendar())
    with pytest.raises(MarketDataError, match=r"AAA: no bar for session 2024-02-06"):
        cache.load_history(["AAA"], END)


def test_duplicate_and_bad_prices_are_rejected_naming_symbol_and_date() -> None:
    bars = BARS["AAA"]
    with pytest.raises(MarketDataError, match="AAA: two bars dated 2024-01-02"):
        check_series("AAA", (bars[0], bars[1], bars[1]), None)
    day = date(2024, 1, 2)
    for bad in ("0", "-1", "NaN", "abc"):
        with pytest.raises(MarketDataError, match=r"AAA 2024-01-02: close"):
            to_bar("AAA", (day, "10", "10", "10", bad, "5"))


def test_a_corrupt_cache_object_is_a_market_data_error() -> None:
    store = FakeStore()
    store.put(bars_key("AAA"), b"not parquet")
    with pytest.raises(MarketDataError, match="AAA: cached bars are not readable"):
        BarCache(store, CountingSource(BARS), WeekdayCalendar()).load_history(["AAA"], END)


def test_the_nyse_calendar_knows_holidays() -> None:
    sessions = calendar().sessions(date(2024, 12, 23), date(2024, 12, 27))
    assert date(2024, 12, 25) not in sessions
    assert len(sessions) == 4


def test_csv_folder_reads_only_the_symbols_asked_for(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "AAA.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,100\n2024-01-03,1,2,0.5,1.75,100\n"
    )
    loaded = read_csv_dir(folder, ["AAA", "BBB"])
    assert list(loaded) == ["AAA"]
    assert loaded["AAA"][-1].close == Decimal("1.75")


def test_a_share_class_is_cached_under_its_file_name_and_served_by_its_ticker() -> None:
    bars = synthetic_bars(["BRK.B"], START, END)
    store, source = FakeStore(), CountingSource(bars)
    cache = BarCache(store, source, WeekdayCalendar(), lookback_days=365)
    assert load_bars(cache, store, ["BRK.B"], END) == bars
    assert set(store.objects) == {"marketdata/bars/1Day/BRK_B.parquet"}
    again = BarCache(store, CountingSource({}), WeekdayCalendar(), lookback_days=365)
    assert load_bars(again, store, ["BRK.B"], END) == bars  # served from the cache, fetched nothing
