"""The bar cache's array path decides exactly as its `Bar` path: same closes, same targets."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type stubs
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from alchemiser.domain.keys import bars_key
from alchemiser.marketdata.cache import BarCache
from alchemiser.marketdata.parquet import SCHEMA, append, decode
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import Symphony
from alchemiser.strategy.symphony import Engine, load_symphony, parse_symphony
from tests.fakes import FakeStore, WeekdayCalendar
from tests.marketdata.test_cache import CountingSource, load_bars
from tests.marketdata.test_columns import _same
from tests.strategy.symphony_gen import SymphonyGenerator, synthetic_bars, weekdays

ROOT = Path(__file__).resolve().parents[2]
START, END = date(2022, 1, 3), date(2024, 6, 28)
DAYS = weekdays(date(2023, 1, 2), END)[::7]


def _symphonies() -> list[Symphony]:
    examples = sorted((ROOT / "include" / "strategies").rglob("*.clj"))
    own = [load_symphony(p, label=p.name) for p in examples]
    # Generated files have nested group filters, as the shared symphonies do.
    return own + [parse_symphony(SymphonyGenerator(seed=s).symphony(300)) for s in range(4)]


def test_the_array_path_gives_the_targets_and_traces_of_the_bar_path() -> None:
    symphonies = _symphonies()
    symbols = sorted(set().union(*(s.symbols for s in symphonies)))
    first_fill = date(2024, 3, 28)
    store = FakeStore()
    early = CountingSource(synthetic_bars(symbols, START, first_fill))
    BarCache(store, early, WeekdayCalendar()).load_history(symbols, first_fill)
    # A second load appends to every cached file; the third finds the cache fresh.
    cache = BarCache(store, CountingSource(synthetic_bars(symbols, START, END)), WeekdayCalendar())
    arrays = cache.load_history(symbols, END)
    assert cache.last_refresh.fetched == tuple(symbols)
    bars = load_bars(cache, store, symbols, END)
    assert cache.last_refresh.fresh == tuple(symbols)
    _same(arrays, PriceHistory.from_bars(bars))
    assert bars == {s: decode(s, store.get(bars_key(s))) for s in symbols}

    by_arrays, by_bars = Engine(arrays), Engine(PriceHistory.from_bars(bars))
    for symphony in symphonies:
        for day in DAYS:
            a, b = by_arrays.evaluate(symphony, day), by_bars.evaluate(symphony, day)
            assert a.weights == b.weights, (symphony.source, day)
            assert a.trace == b.trace, (symphony.source, day)


def test_an_earlier_as_of_date_gives_the_truncated_arrays_of_the_bar_path() -> None:
    bars = synthetic_bars(["AAA", "BRK.B"], START, END)
    store = FakeStore()
    cache = BarCache(store, CountingSource(bars), WeekdayCalendar())
    cache.load_history(["AAA", "BRK.B"], END)
    earlier = date(2024, 2, 1)
    arrays = cache.load_history(["AAA", "BRK.B", "ZZZ"], earlier)
    assert arrays.last_date() == earlier
    _same(arrays, PriceHistory.from_bars(load_bars(cache, store, ["AAA", "BRK.B"], earlier)))


def test_a_cached_file_of_another_layout_is_appended_to_as_the_bar_path_would() -> None:
    bars = synthetic_bars(["AAA"], START, END)["AAA"]
    cut = len(bars) // 2
    floats = pa.table(
        {
            "date": [b.session for b in bars[:cut]],
            **{c: [float(getattr(b, c)) for b in bars[:cut]] for c in SCHEMA.names[1:]},
        }
    )
    sink = io.BytesIO()
    pq.write_table(floats, sink)
    start = bars[cut - 1].session  # the cache re-reads its last session
    body, merged = append("AAA", sink.getvalue(), start, bars[cut - 1 :])
    expected = (*decode("AAA", sink.getvalue())[: cut - 1], *bars[cut - 1 :])
    assert decode("AAA", body) == expected
    _same(PriceHistory({"AAA": merged}), PriceHistory.from_bars({"AAA": expected}))
