"""Daily bars straight into the evaluator's arrays: no `Bar` per row, the same checks per column.

The evaluator needs only dates (ordinals) and closes (float64). Building them through validated
`Bar`s (Decimal per field, a pydantic model per row) is most of a small evaluation, so a CSV file
is parsed into float columns here and checked column-wise with the rules of `validation.py`
(finite, positive prices, volume at least 0, low <= open, close <= high, dates strictly
increasing); errors name the file, line or date as `read_csv_bars` does. Money is not computed
from these floats: `read_csv_columns` also keeps each close's text, from which the backtest makes
the exact `Decimal` (as `to_bar` does) for the few sessions a fill or a valuation reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from alchemiser.domain.errors import MarketDataError
from alchemiser.marketdata.csvdir import HEADER, csv_path, csv_rows
from alchemiser.strategy.history import FloatArray, IntArray, PriceHistory, SymbolHistory

FIELDS = ("open", "high", "low", "close", "volume")
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
LAST_ORDINAL = date.max.toordinal()
Cells = npt.NDArray[np.object_]


CloseColumns = tuple[SymbolHistory, list[str]]
"""One symbol's dates and float closes, and each close's text as the file writes it (stripped)."""


def read_csv_history(folder: Path, symbols: Iterable[str]) -> PriceHistory:
    """Return the closes of each symbol that has a file in `folder` (others are left out)."""
    return history_of(read_csv_columns(folder, symbols))


def history_of(columns: Mapping[str, CloseColumns]) -> PriceHistory:
    """Return the float closes of the symbols with at least one row."""
    return PriceHistory({s: h for s, (h, _) in columns.items() if len(h.dates)})


def read_csv_columns(folder: Path, symbols: Iterable[str]) -> dict[str, CloseColumns]:
    """Return the columns of each symbol that has a file in `folder`, even an empty one."""
    if not folder.is_dir():
        raise MarketDataError(f"prices folder {folder} is not a directory")
    out: dict[str, CloseColumns] = {}
    for symbol in sorted(set(symbols)):
        path = csv_path(folder, symbol)
        if path is not None:
            out[symbol] = read_csv_closes(path, symbol)
    return out


def read_csv_closes(path: Path, symbol: str) -> CloseColumns:
    """Read and check one symbol's CSV into dates, closes and the closes' text."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MarketDataError(f"cannot read {path}: {exc.strerror}") from exc
    plain = _plain_columns(text)
    if plain is None:  # quoting, odd dates or line ends, or an error to word: read row by row
        return _read_rows(path, symbol)
    dates, table, cells = plain
    check_columns(symbol, dates, table, lambda i, j: str(cells[i, j + 1]).strip())
    # A list of the one column, so the other cells' strings are freed.
    closes = [str(c).strip() for c in cells[:, 4].tolist()]
    return SymbolHistory(symbol, dates, np.ascontiguousarray(table[:, 3])), closes


def _plain_columns(text: str) -> tuple[IntArray, FloatArray, Cells] | None:
    """Parse a plain file (no quotes, `\n` line ends, YYYY-MM-DD dates) a column at a time.

    None when the file is anything else, or is malformed: the row reader then reads it (or
    words its error). numpy parses a decimal string to the same double as `float` does.
    """
    lines = _plain_lines(text)
    if lines is None:
        return None
    if not lines:
        return np.empty(0, dtype=np.int64), np.empty((0, len(FIELDS))), np.empty((0, 6), object)
    cells = np.array(",".join(lines).split(","), dtype=object).reshape(len(lines), len(HEADER))
    days = cells[:, 0].astype(str)
    try:
        parsed = days.astype("datetime64[D]")
        table = cells[:, 1:].astype(np.float64)
    except ValueError:
        return None
    if not bool((np.datetime_as_string(parsed) == days).all()):  # only YYYY-MM-DD, as written
        return None
    dates = parsed.astype(np.int64) + EPOCH_ORDINAL
    if not bool(((dates >= 1) & (dates <= LAST_ORDINAL)).all()):  # years `date` cannot hold
        return None
    return dates, table, cells


def _plain_lines(text: str) -> list[str] | None:
    """Return the data lines of a file with the header, six cells a line and nothing quoted."""
    if '"' in text or "\r" in text:
        return None
    header, _, body = text.partition("\n")
    if [h.strip().lower() for h in header.split(",")] != HEADER:
        return None
    lines = [line for line in body.split("\n") if line]
    commas = [line.count(",") for line in lines]
    if lines and not min(commas) == max(commas) == len(HEADER) - 1:
        return None
    return lines


def _read_rows(path: Path, symbol: str) -> CloseColumns:
    days: list[int] = []
    rows: list[list[str]] = []
    numbers: list[float] = []
    try:
        for day, values in csv_rows(path):
            numbers.extend(_floats(symbol, day, values))
            days.append(day.toordinal())
            rows.append(values)
    except OSError as exc:
        raise MarketDataError(f"cannot read {path}: {exc.strerror}") from exc
    table = np.array(numbers, dtype=np.float64).reshape(len(rows), len(FIELDS))
    dates = np.array(days, dtype=np.int64)
    check_columns(symbol, dates, table, lambda i, j: rows[i][j])
    closes = [row[3] for row in rows]
    return SymbolHistory(symbol, dates, np.ascontiguousarray(table[:, 3])), closes


def _floats(symbol: str, day: date, values: list[str]) -> list[float]:
    try:
        return [float(raw) for raw in values]
    except ValueError:
        for name, raw in zip(FIELDS, values, strict=True):
            try:
                float(raw)
            except ValueError:
                raise MarketDataError(f"{symbol} {day}: {name} {raw!r} is not a number") from None
        raise


def check_columns(
    symbol: str, dates: IntArray, table: FloatArray, raw: Callable[[int, int], object]
) -> None:
    """Apply `validation.to_bar` and `check_series` to whole columns (open..volume).

    `raw(i, j)` is row i, column j as read, only to word an error like `to_bar` does.
    """
    positive = table > 0
    positive[:, 4] = table[:, 4] >= 0
    bad = ~(np.isfinite(table) & positive)
    o, h, low, c = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
    outside = ~((low <= np.minimum(o, c)) & (np.maximum(o, c) <= h))
    bad_row = int(np.argmax(bad.any(axis=1))) if bool(bad.any()) else len(dates)
    outside_row = int(np.argmax(outside)) if bool(outside.any()) else len(dates)
    if bad_row < len(dates) and bad_row <= outside_row:
        j = int(np.argmax(bad[bad_row]))
        day = date.fromordinal(int(dates[bad_row]))
        raise MarketDataError(
            f"{symbol} {day}: {FIELDS[j]} {raw(bad_row, j)!r} is not a positive price"
        )
    if outside_row < len(dates):
        day = date.fromordinal(int(dates[outside_row]))
        raise MarketDataError(f"{symbol} {day}: need low <= open, close <= high")
    check_order(symbol, dates)


def check_order(symbol: str, dates: IntArray) -> None:
    """Require strictly increasing dates, worded as `check_series` words it."""
    steps = np.diff(dates)
    if len(steps) and not bool((steps > 0).all()):
        i = int(np.argmax(steps <= 0))
        before, after = date.fromordinal(int(dates[i])), date.fromordinal(int(dates[i + 1]))
        if before == after:
            raise MarketDataError(f"{symbol}: two bars dated {after}")
        raise MarketDataError(f"{symbol}: bar dated {after} after {before}")
