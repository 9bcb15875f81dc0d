"""Sessions of an exchange calendar: dates, open and close instants, early closes included.

Wraps exchange-calendars (which brings pandas) behind plain dates and aware datetimes, cached per
calendar, so callers such as the scheduler's timetable never touch pandas types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import exchange_calendars

from alchemiser.domain.errors import ConfigError
from alchemiser.domain.sessions import session_of

_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class Session:
    """One trading session: its date and when it opens and closes (UTC)."""

    day: date
    open: datetime
    close: datetime


class TradingCalendar:
    """Look up sessions of one exchange calendar (default NYSE, `XNYS`)."""

    def __init__(self, name: str = "XNYS") -> None:
        try:
            self._calendar = exchange_calendars.get_calendar(name)
        except exchange_calendars.errors.InvalidCalendarName as exc:
            raise ConfigError(f"unknown exchange calendar {name!r}") from exc
        self.name = name
        self._first = self._calendar.first_session.date()
        self._last = self._calendar.last_session.date()

    def session(self, day: date) -> Session | None:
        """Return the session on `day`, or None when the exchange is closed that day."""
        self._check_range(day)
        if not self._calendar.is_session(day.isoformat()):
            return None
        return self._build(day)

    def next_session(self, day: date) -> Session:
        """Return the first session on or after `day`."""
        return self._first_of(self.sessions_between(day, day + _HORIZON), f"on or after {day}")

    def previous_session(self, day: date) -> Session:
        """Return the last session on or before `day`."""
        found = self.sessions_between(day - _HORIZON, day)
        if not found:
            raise ConfigError(f"{self.name}: no session on or before {day}")
        return found[-1]

    def latest_opened(self, moment: datetime) -> Session:
        """Return the latest session that had opened at `moment` (it may have closed since)."""
        session = self.previous_session(session_of(moment))
        if session.open > moment:
            session = self.previous_session(session.day - timedelta(days=1))
        return session

    def sessions(self, start: date, end: date) -> list[date]:
        """Return the dates of the sessions in [start, end] (the `SessionCalendar` port)."""
        return [s.day for s in self.sessions_between(start, end)]

    def sessions_between(self, start: date, end: date) -> tuple[Session, ...]:
        """Return the sessions with dates in [start, end], in order."""
        start, end = max(start, self._first), min(end, self._last)
        if start > end:
            return ()
        # One slice of the schedule, not a lookup per session: a 5-year backtest asks for ~1,260.
        table = self._calendar.schedule.loc[start.isoformat() : end.isoformat()]
        return tuple(
            Session(
                day=d.date(),
                open=o.to_pydatetime().astimezone(UTC),
                close=c.to_pydatetime().astimezone(UTC),
            )
            for d, o, c in zip(table.index, table["open"], table["close"], strict=True)
        )

    def _first_of(self, sessions: tuple[Session, ...], what: str) -> Session:
        if not sessions:
            raise ConfigError(f"{self.name}: no session {what} within the calendar's range")
        return sessions[0]

    def _check_range(self, day: date) -> None:
        if not self._first <= day <= self._last:
            raise ConfigError(f"{self.name}: {day} is outside {self._first}..{self._last}")

    def _build(self, day: date) -> Session:
        label = day.isoformat()
        opened = self._calendar.session_open(label).to_pydatetime().astimezone(UTC)
        closed = self._calendar.session_close(label).to_pydatetime().astimezone(UTC)
        return Session(day=day, open=opened, close=closed)


@lru_cache(maxsize=4)
def calendar(name: str = "XNYS") -> TradingCalendar:
    """Return a process-wide cached calendar (building one takes ~100 ms)."""
    return TradingCalendar(name)
