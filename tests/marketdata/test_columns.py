"""The columnar path: CSV and Parquet bars straight to arrays, equal to the `Bar` path's arrays."""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.marketdata.columns import read_csv_history
from alchemiser.marketdata.csvdir import read_csv_dir
from alchemiser.marketdata.parquet import SCHEMA, decode, decode_closes, encode
from alchemiser.strategy.history import PriceHistory
from tests.strategy.symphony_gen import synthetic_bars

START, END = date(2023, 1, 2), date(2024, 6, 28)
HEADER = "date,open,high,low,close,volume\n"


def _odd_bars(seed: int) -> tuple[Bar, ...]:
    """Closes with many digits and large prices: where a float conversion can go wrong."""
    rng = random.Random(seed)
    bars = []
    for i, day in enumerate(b.session for b in synthetic_bars(["X"], START, END)["X"]):
        price = Decimal(repr(rng.random() * 10 ** rng.randint(-2, 7))).quantize(Decimal("1e-10"))
        price = max(price, Decimal("0.0001")) + (Decimal(1_000_000) if i % 7 == 0 else 0)
        bars.append(Bar(session=day, open=price, high=price, low=price, close=price, volume=i))
    return tuple(bars)


def _write(folder: Path, stem: str, bars: tuple[Bar, ...]) -> None:
    rows = [f"{b.session},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
    (folder / f"{stem}.csv").write_text(HEADER + "\n".join(rows) + "\n")


def _same(a: PriceHistory, b: PriceHistory) -> None:
    assert a.symbols == b.symbols
    for symbol in a.symbols:
        x, y = a.get(symbol), b.get(symbol)
        assert x is not None
        assert y is not None
        assert x.dates.dtype == y.dates.dtype
        assert x.close.dtype == y.close.dtype
        assert np.array_equal(x.dates, y.dates), symbol
        assert np.array_equal(x.close, y.close), symbol


def test_a_csv_folder_gives_the_arrays_of_the_bar_path_share_classes_included(
    tmp_path: Path,
) -> None:
    bars = synthetic_bars(["AAA", "BRK.B", "BF.A"], START, END)
    bars["ODD"] = _odd_bars(1)
    for symbol, rows in bars.items():
        _write(tmp_path, "BF.A" if symbol == "BF.A" else symbol.replace(".", "_"), rows)
    wanted = [*bars, "NONE"]

    columns = read_csv_history(tmp_path, wanted)

    assert columns.symbols == ("AAA", "BF.A", "BRK.B", "ODD")
    _same(columns, PriceHistory.from_bars(read_csv_dir(tmp_path, wanted)))


def test_a_parquet_cache_object_gives_the_arrays_of_the_bar_path() -> None:
    for seed in range(3):
        bars = _odd_bars(seed)
        body = encode(bars)
        found = decode_closes("ODD", body)
        _same(
            PriceHistory({"ODD": found}),
            PriceHistory.from_bars({"ODD": decode("ODD", body)}),
        )


def test_parquet_with_nulls_or_float_columns_is_read_like_the_bar_path() -> None:
    bars = synthetic_bars(["AAA"], START, END)["AAA"]
    floats = pa.table(
        {
            "date": [b.session for b in bars],
            **{c: [float(getattr(b, c)) for b in bars] for c in SCHEMA.names[1:]},
        }
    )
    sink = io.BytesIO()
    pq.write_table(floats, sink)
    _same(
        PriceHistory({"AAA": decode_closes("AAA", sink.getvalue())}),
        PriceHistory.from_bars({"AAA": decode("AAA", sink.getvalue())}),
    )
    with_null = floats.set_column(4, "close", pa.array([None] + [1.0] * (len(bars) - 1)))
    sink = io.BytesIO()
    pq.write_table(with_null, sink)
    with pytest.raises(MarketDataError, match="close None is not a number"):
        decode_closes("AAA", sink.getvalue())


BAD_ROWS = [
    ("2024-01-03,1,2,0.5,-1,10", "X 2024-01-03: close '-1' is not a positive price"),
    ("2024-01-03,1,2,0.5,abc,10", "X 2024-01-03: close 'abc' is not a number"),
    ("2024-01-03,1,2,0.5,nan,10", "X 2024-01-03: close 'nan' is not a positive price"),
    ("2024-01-03,1,2,0.5,1,-5", "X 2024-01-03: volume '-5' is not a positive price"),
    ("2024-01-03,1,2,1.5,1.6,10", r"X 2024-01-03: need low <= open, close <= high"),
    ("2024-01-02,1,2,0.5,1,10", "X: two bars dated 2024-01-02"),
    ("2024-01-01,1,2,0.5,1,10", "X: bar dated 2024-01-01 after 2024-01-02"),
    ("2024-13-01,1,2,0.5,1,10", r"X.csv:3: bad date '2024-13-01'"),
    ("2024-01-03,1,2,0.5,1", r"X.csv:3: expected 6 columns"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_bad_csv_row_is_refused_with_the_words_of_the_bar_path(
    tmp_path: Path, row: str, message: str
) -> None:
    (tmp_path / "X.csv").write_text(HEADER + "2024-01-02,1,2,0.5,1.5,10\n" + row + "\n")
    with pytest.raises(MarketDataError, match=message) as bar_path:
        read_csv_dir(tmp_path, ["X"])
    with pytest.raises(MarketDataError) as columns:
        read_csv_history(tmp_path, ["X"])
    assert str(columns.value) == str(bar_path.value)


def test_a_wrong_header_or_missing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text("day,close\n2024-01-02,1\n")
    with pytest.raises(MarketDataError, match="header must be date,open,high,low,close,volume"):
        read_csv_history(tmp_path, ["X"])
    with pytest.raises(MarketDataError, match="is not a directory"):
        read_csv_history(tmp_path / "nowhere", ["X"])


def test_quoted_cells_crlf_line_ends_and_padded_cells_read_like_the_bar_path(
    tmp_path: Path,
) -> None:
    bars = synthetic_bars(["AAA"], START, END)["AAA"]
    rows = [f'"{b.session}", {b.open},{b.high} ,{b.low},"{b.close}",{b.volume}' for b in bars]
    (tmp_path / "AAA.csv").write_text(HEADER.replace("\n", "\r\n") + "\r\n".join(rows) + "\r\n")
    (tmp_path / "BBB.csv").write_text(HEADER + "\n".join(rows[:5]).replace('"', ""))
    _same(
        read_csv_history(tmp_path, ["AAA", "BBB"]),
        PriceHistory.from_bars(read_csv_dir(tmp_path, ["AAA", "BBB"])),
    )


def test_a_header_only_file_is_a_symbol_without_bars(tmp_path: Path) -> None:
    (tmp_path / "AAA.csv").write_text(HEADER)
    assert read_csv_history(tmp_path, ["AAA"]).symbols == ()
    assert read_csv_dir(tmp_path, ["AAA"]) == {"AAA": ()}
