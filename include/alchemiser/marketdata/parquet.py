"""One symbol's daily bars as a Parquet file: exact decimals, one row per session."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type stubs
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.marketdata.validation import check_series, to_bar

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


def encode(bars: Sequence[Bar]) -> bytes:
    """Return the bars as Parquet bytes."""
    columns = {"date": [b.session for b in bars]}
    for name in COLUMNS:
        columns[name] = [getattr(b, name).quantize(SCALE) for b in bars]
    table = pa.table(columns, schema=SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def decode(symbol: str, body: bytes) -> tuple[Bar, ...]:
    """Read and validate bars written by `encode` (or any file with the same columns)."""
    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowInvalid, OSError) as exc:
        raise MarketDataError(f"{symbol}: cached bars are not readable Parquet: {exc}") from exc
    missing = [c for c in ("date", *COLUMNS) if c not in table.column_names]
    if missing:
        raise MarketDataError(f"{symbol}: cached bars lack columns {', '.join(missing)}")
    data = {name: table.column(name).to_pylist() for name in ("date", *COLUMNS)}
    rows = zip(*(data[name] for name in ("date", *COLUMNS)), strict=True)
    bars = tuple(to_bar(symbol, row) for row in rows)
    check_series(symbol, bars, None)
    return bars
