"""Daily bars from a folder of `<SYMBOL>.csv` files (`date,open,high,low,close,volume`).

A share class is stored as `BRK_B.csv` (see domain/symbols.py); `BRK.B.csv` is read too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar
from alchemiser.domain.symbols import file_stem
from alchemiser.marketdata.validation import check_series, to_bar

HEADER = ["date", "open", "high", "low", "close", "volume"]


def read_csv_bars(path: Path, symbol: str) -> tuple[Bar, ...]:
    """Read and validate one symbol's CSV; errors name the file, line or date."""
    try:
        bars = [to_bar(symbol, (day, o, h, low, c, v)) for day, (o, h, low, c, v) in csv_rows(path)]
    except OSError as exc:
        raise MarketDataError(f"cannot read {path}: {exc.strerror}") from exc
    check_series(symbol, bars, None)
    return tuple(bars)


def csv_rows(path: Path) -> Iterator[tuple[date, list[str]]]:
    """Yield each row's date and its five number cells, stripped; layout errors name the line."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        if header != HEADER:
            raise MarketDataError(f"{path}: header must be {','.join(HEADER)}")
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(HEADER):
                raise MarketDataError(f"{path}:{line}: expected {len(HEADER)} columns")
            try:
                day = date.fromisoformat(row[0].strip())
            except ValueError as exc:
                raise MarketDataError(f"{path}:{line}: bad date {row[0]!r}") from exc
            yield day, [x.strip() for x in row[1:]]


def read_csv_dir(folder: Path, symbols: Iterable[str]) -> dict[str, tuple[Bar, ...]]:
    """Return bars of each symbol that has a file in `folder` (others are left out)."""
    if not folder.is_dir():
        raise MarketDataError(f"prices folder {folder} is not a directory")
    out: dict[str, tuple[Bar, ...]] = {}
    for symbol in sorted(set(symbols)):
        path = csv_path(folder, symbol)
        if path is not None:
            out[symbol] = read_csv_bars(path, symbol)
    return out


def csv_path(folder: Path, symbol: str) -> Path | None:
    """Return the file holding `symbol`'s bars in `folder`, None when there is none."""
    for name in dict.fromkeys((file_stem(symbol), symbol)):
        path = folder / f"{name}.csv"
        if path.is_file():
            return path
    return None
