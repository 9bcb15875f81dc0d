"""Reject bad daily bars before they are cached or evaluated; errors name symbol and date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from pydantic import ValidationError

from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.market import Bar

RawBar = tuple[date, object, object, object, object, object]
"""(session, open, high, low, close, volume) as read from a file, not yet trusted."""


def to_bar(symbol: str, row: RawBar) -> Bar:
    """Return a validated Bar, or raise MarketDataError naming the symbol and the date."""
    day, *numbers = row
    values: list[Decimal] = []
    for name, raw in zip(("open", "high", "low", "close", "volume"), numbers, strict=True):
        try:
            value = Decimal(str(raw))
        except InvalidOperation as exc:
            raise MarketDataError(f"{symbol} {day}: {name} {raw!r} is not a number") from exc
        if not value.is_finite() or (value <= 0 and name != "volume") or value < 0:
            raise MarketDataError(f"{symbol} {day}: {name} {raw!r} is not a positive price")
        values.append(value)
    o, h, low, c, v = values
    if not (low <= min(o, c) and max(o, c) <= h):
        raise MarketDataError(f"{symbol} {day}: need low <= open, close <= high")
    try:
        return Bar(session=day, open=o, high=h, low=low, close=c, volume=v)
    except ValidationError as exc:
        raise MarketDataError(f"{symbol} {day}: {exc.errors()[0]['msg']}") from exc


def check_series(symbol: str, bars: Sequence[Bar], sessions: Sequence[date] | None) -> None:
    """Require strictly increasing dates and, given the calendar's sessions, no gaps."""
    for before, after in pairwise(bars):
        if after.session == before.session:
            raise MarketDataError(f"{symbol}: two bars dated {after.session}")
        if after.session < before.session:
            raise MarketDataError(f"{symbol}: bar dated {after.session} after {before.session}")
    if sessions is None or not bars:
        return
    have = {b.session for b in bars}
    first, last = bars[0].session, bars[-1].session
    missing = [d for d in sessions if first <= d <= last and d not in have]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MarketDataError(f"{symbol}: no bar for session {missing[0]}{more} (gap in history)")
