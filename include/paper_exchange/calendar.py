"""XNYS sessions and the simulated session clock.

The exchange replays one session as if it were happening now: simulated time is the session
open plus an offset plus the real time elapsed since the exchange started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import exchange_calendars

NEW_YORK = ZoneInfo("America/New_York")
# Start no later than this before the close, so an early-close session still opens "open".
MIN_MINUTES_BEFORE_CLOSE = 30


@lru_cache(maxsize=1)
def _xnys() -> Any:
    return exchange_calendars.get_calendar("XNYS")


def _to_date(ts: Any) -> date:
    value: date = ts.date()
    return value


def _to_utc(ts: Any) -> datetime:
    value: datetime = ts.to_pydatetime()
    return value.astimezone(UTC)


class MarketCalendar:
    """Read-only view of the XNYS calendar in plain dates and UTC datetimes."""

    def __init__(self) -> None:
        self._cal = _xnys()
        self.first: date = _to_date(self._cal.first_session)
        self.last: date = _to_date(self._cal.last_session)

    def clamp(self, day: date) -> date:
        """Clamp a date into the range the calendar knows."""
        return min(max(day, self.first), self.last)

    def is_session(self, day: date) -> bool:
        """Return whether the exchange trades on this date."""
        if not self.first <= day <= self.last:
            return False
        return bool(self._cal.is_session(day.isoformat()))

    def session_on_or_before(self, day: date) -> date:
        """Return the latest session on or before a date."""
        return _to_date(self._cal.date_to_session(self.clamp(day).isoformat(), "previous"))

    def next_session(self, day: date) -> date:
        """Return the session after a session."""
        return _to_date(self._cal.next_session(day.isoformat()))

    def previous_session(self, day: date) -> date:
        """Return the session before a session."""
        return _to_date(self._cal.previous_session(day.isoformat()))

    def open_close(self, session: date) -> tuple[datetime, datetime]:
        """Return the session's open and close as UTC datetimes (early closes included)."""
        ts = session.isoformat()
        return _to_utc(self._cal.session_open(ts)), _to_utc(self._cal.session_close(ts))

    def sessions(self, start: date, end: date) -> list[date]:
        """Return all sessions in [start, end]."""
        lo, hi = self.clamp(start), self.clamp(end)
        if lo > hi:
            return []
        return [_to_date(ts) for ts in self._cal.sessions_in_range(lo.isoformat(), hi.isoformat())]


@dataclass(frozen=True)
class SessionClock:
    """Maps real elapsed time onto the simulated session."""

    calendar: MarketCalendar
    session: date
    open_at: datetime
    close_at: datetime
    simulated_start: datetime
    real_start: datetime

    @classmethod
    def start(
        cls, calendar: MarketCalendar, session: date, minutes_after_open: int, real_start: datetime
    ) -> SessionClock:
        """Start simulating a session at open + minutes_after_open (clamped before the close)."""
        if not calendar.is_session(session):
            raise ValueError(f"{session.isoformat()} is not an XNYS session")
        open_at, close_at = calendar.open_close(session)
        length = int((close_at - open_at).total_seconds() // 60)
        offset = max(0, min(minutes_after_open, length - MIN_MINUTES_BEFORE_CLOSE))
        return cls(
            calendar=calendar,
            session=session,
            open_at=open_at,
            close_at=close_at,
            simulated_start=open_at + timedelta(minutes=offset),
            real_start=real_start,
        )

    def simulated(self, real_now: datetime) -> datetime:
        """Return the simulated UTC time for a real wall-clock time."""
        return self.simulated_start + (real_now - self.real_start)

    def is_open(self, sim: datetime) -> bool:
        """Return whether the simulated market is open at a simulated time."""
        return self.open_at <= sim < self.close_at

    def next_open(self, sim: datetime) -> datetime:
        """Return the next open after a simulated time."""
        if sim < self.open_at:
            return self.open_at
        return self.calendar.open_close(self.calendar.next_session(self.session))[0]

    def next_close(self, sim: datetime) -> datetime:
        """Return the next close after a simulated time."""
        if sim < self.close_at:
            return self.close_at
        return self.calendar.open_close(self.calendar.next_session(self.session))[1]
