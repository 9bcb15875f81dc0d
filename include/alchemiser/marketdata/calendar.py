"""A calendar of every weekday, for synthetic data without holidays.

The real exchange calendar is `alchemiser.calendars.trading` (the one wrapper over
exchange-calendars); both satisfy `ports.SessionCalendar`.
"""

from __future__ import annotations

from datetime import date


class WeekdayCalendar:
    """Every Monday to Friday: for tests and synthetic data without holidays."""

    def sessions(self, start: date, end: date) -> list[date]:
        """Return the weekdays in [start, end]."""
        days = range(start.toordinal(), end.toordinal() + 1)
        return [d for d in map(date.fromordinal, days) if d.weekday() < 5]
