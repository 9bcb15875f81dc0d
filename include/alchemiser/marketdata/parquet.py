"""One symbol's daily bars as a Parquet file: exact decimals, one row per session."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type stubs
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.marketdata.columns import check_columns, check_order
from alchemiser.marketdata.validation import check_series, to_bar
from alchemiser.strategy.history import FloatArray, SymbolHistory

SCALE = Decimal("0.0000000001")
PRICE = pa.decimal128(38, 10)
SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("open", PRICE),
        ("high", PRICE),
        ("low", PRICE),
        ("close", PRICE),
        ("volume", PRICE),
    ]
)
COLUMNS = ("open", "high", "low", "close", "volume")
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
EXACT_INT = 2**53
MAX_EXACT_SCALE = 22


def encode(bars: Sequence[Bar]) -> bytes:
    """Return the bars as Parquet bytes."""
    return _write(_table_of_bars(bars))


def _table_of_bars(bars: Sequence[Bar]) -> pa.Table:
    columns = {"date": [b.session for b in bars]}
    for name in COLUMNS:
        columns[name] = [getattr(b, name).quantize(SCALE) for b in bars]
    return pa.table(columns, schema=SCHEMA)


def _write(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _table(symbol: str, body: bytes) -> pa.Table:
    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowInvalid, OSError) as exc:
        raise MarketDataError(f"{symbol}: cached bars are not readable Parquet: {exc}") from exc
    missing = [c for c in ("date", *COLUMNS) if c not in table.column_names]
    if missing:
        raise MarketDataError(f"{symbol}: cached bars lack columns {', '.join(missing)}")
    return table


def decode(symbol: str, body: bytes) -> tuple[Bar, ...]:
    """Read and validate bars written by `encode` (or any file with the same columns)."""
    return _bars(symbol, _table(symbol, body))


def decode_closes(symbol: str, body: bytes) -> SymbolHistory:
    """Read and check cached bars straight into the evaluator's dates and closes.

    The same checks as `decode`, on whole columns; each float is the one `float(Decimal)` gives
    (see `_exact_floats`). A file this path cannot take exactly (nulls, other column types) goes
    through `decode`, so it is accepted or refused with the same words.
    """
    return _closes(symbol, _table(symbol, body))


def append(
    symbol: str, body: bytes | None, start: date, new: Sequence[Bar]
) -> tuple[bytes, SymbolHistory]:
    """Return the cached rows dated before `start` followed by `new`, as a file and as closes.

    The cached rows are checked as `decode_closes` checks them and stay in their columns (no
    `Bar` per row); the new bars, already validated by the source, are appended exactly as
    `encode` writes them. A file of another layout is rewritten through `Bar`s, like `encode`.
    """
    old = _table(symbol, body) if body is not None else SCHEMA.empty_table()
    cached = _closes(symbol, old)
    keep = int(np.searchsorted(cached.dates, start.toordinal()))
    dates = np.array([b.session.toordinal() for b in new], dtype=np.int64)
    closes = np.array([b.close for b in new], dtype=np.float64)  # float(Decimal), as from_bars
    merged = SymbolHistory(
        symbol,
        np.concatenate([cached.dates[:keep], dates]),
        np.concatenate([cached.close[:keep], closes]),
    )
    check_order(symbol, merged.dates)
    columns = old.select(["date", *COLUMNS])
    if columns.schema.equals(SCHEMA):
        return _write(pa.concat_tables([columns.slice(0, keep), _table_of_bars(new)])), merged
    return encode([*_bars(symbol, old)[:keep], *new]), merged


def _closes(symbol: str, table: pa.Table) -> SymbolHistory:
    columns = [_column(table, name) for name in COLUMNS]
    floats = [f for c in columns if (f := _exact_floats(c)) is not None]
    if len(floats) < len(columns) or table.column("date").null_count:
        return _history_of_bars(symbol, _bars(symbol, table))
    dates = table.column("date").cast(pa.int32()).to_numpy().astype(np.int64) + EPOCH_ORDINAL
    matrix = np.column_stack(floats)
    check_columns(symbol, dates, matrix, lambda i, j: columns[j][i].as_py())
    return SymbolHistory(symbol, dates, np.ascontiguousarray(matrix[:, 3]))


def _history_of_bars(symbol: str, bars: Sequence[Bar]) -> SymbolHistory:
    dates = np.array([b.session.toordinal() for b in bars], dtype=np.int64)
    return SymbolHistory(symbol, dates, np.array([float(b.close) for b in bars], dtype=np.float64))


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _exact_floats(column: pa.Array) -> FloatArray | None:
    """Return the column as float64 exactly as `float(Decimal)` rounds it, None if it cannot.

    Arrow's own decimal-to-double cast is not correctly rounded; an unscaled integer below 2**53
    and a power of ten up to 1e22 are exact doubles, and one IEEE division of two exact values
    is correctly rounded, so `unscaled / 10**scale` is. Other rows convert one by one.
    """
    if column.null_count:
        return None
    if pa.types.is_float64(column.type):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not pa.types.is_decimal128(column.type) or not 0 <= column.type.scale <= MAX_EXACT_SCALE:
        return None
    start, stop = 2 * column.offset, 2 * (column.offset + len(column))
    words = np.frombuffer(column.buffers()[1], dtype="<i8")[start:stop].reshape(-1, 2)
    low, high = words[:, 0], words[:, 1]
    out: FloatArray = low.astype(np.float64) / float(10**column.type.scale)
    slow = np.flatnonzero((high != 0) | (low < 0) | (low >= EXACT_INT))
    for i in slow.tolist():
        out[i] = float(column[i].as_py())
    return out


def _bars(symbol: str, table: pa.Table) -> tuple[Bar, ...]:
    data = {name: table.column(name).to_pylist() for name in ("date", *COLUMNS)}
    rows = zip(*(data[name] for name in ("date", *COLUMNS)), strict=True)
    bars = tuple(to_bar(symbol, row) for row in rows)
    check_series(symbol, bars, None)
    return bars
