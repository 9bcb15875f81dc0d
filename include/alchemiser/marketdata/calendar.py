"""Which dates are NYSE sessions: what bar gaps and cache freshness are judged against."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import exchange_calendars


class SessionCalendar(Protocol):
    """Trading sessions of one exchange."""

    def sessions(self, start: date, end: date) -> list[date]:
        """Return every session in [start, end], oldest first."""
        ...


@lru_cache(maxsize=1)
def _xnys() -> Any:
    return exchange_calendars.get_calendar("XNYS")


class XnysCalendar:
    """The NYSE calendar from exchange_calendars (holidays and early closes included)."""

    def sessions(self, start: date, end: date) -> list[date]:
        """Return every NYSE session in [start, end] within the calendar's known range."""
        cal = _xnys()
        first, last = cal.first_session.date(), cal.last_session.date()
        lo, hi = max(start, first), min(end, last)
        if lo > hi:
            return []
        return [ts.date() for ts in cal.sessions_in_range(lo.isoformat(), hi.isoformat())]
