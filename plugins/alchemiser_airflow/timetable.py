"""TradingSessionTimetable: one run per exchange session, a fixed time before its close.

The data interval is the session (open to close), so a run's logical date names the trading
day; the run starts `minutes_before_close` before the close, which on early-close days is the
early close. Daylight-saving changes need no special case: opens and closes come from the
exchange calendar as instants. The DAG file only constructs this object; the calendar (which
loads pandas) and the domain's session dates (three modules and a time zone: 1.3 million
instructions of each parse) are imported when the scheduler or dag-processor asks for run times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from pendulum import DateTime, instance

if TYPE_CHECKING:
    from alchemiser.calendars.trading import Session, TradingCalendar


class TradingSessionTimetable(Timetable):
    """Run once per session of `calendar_name`, `minutes_before_close` before it closes."""

    def __init__(self, *, minutes_before_close: int = 15, calendar_name: str = "XNYS") -> None:
        if not 0 <= minutes_before_close <= 390:
            raise ValueError("minutes_before_close must be between 0 and 390")
        self.minutes_before_close = minutes_before_close
        self.calendar_name = calendar_name
        self.description = f"{minutes_before_close} min before each {calendar_name} session's close"

    @property
    def summary(self) -> str:
        """Return the short text the UI shows as the schedule."""
        return f"{self.calendar_name} close -{self.minutes_before_close}m"

    def serialize(self) -> dict[str, Any]:
        """Return plain arguments."""
        return {
            "minutes_before_close": self.minutes_before_close,
            "calendar_name": self.calendar_name,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> TradingSessionTimetable:
        """Rebuild from `serialize`'s output."""
        return cls(
            minutes_before_close=int(data["minutes_before_close"]),
            calendar_name=str(data["calendar_name"]),
        )

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        """A manual run covers the latest session that opened at or before it was triggered."""
        session = self._calendar().latest_opened(run_after)
        return DataInterval(instance(session.open), instance(session.close))

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        """Return the next session after the last one run (or the first allowed one)."""
        # Runtime import: see the module docstring.
        from alchemiser.domain.sessions import session_of  # noqa: PLC0415 - runtime only

        calendar = self._calendar()
        if last_automated_data_interval is not None:
            session = calendar.next_session(
                session_of(last_automated_data_interval.start) + timedelta(days=1)
            )
        elif restriction.earliest is None:
            return None  # no start_date: never scheduled
        else:
            session = self._first_run_from(restriction.earliest)
        if not restriction.catchup:
            # Without catch-up, the first run is the next one still ahead of the scheduler.
            now = datetime.now(UTC)  # noqa: TID251 - the scheduler's edge
            session = max(session, self._first_run_from(now), key=lambda s: s.day)
        if restriction.latest is not None and session.open > restriction.latest:
            return None
        return DagRunInfo(
            run_after=instance(self._run_time(session.close)),
            data_interval=DataInterval(instance(session.open), instance(session.close)),
        )

    def _first_run_from(self, moment: datetime) -> Session:
        """Return the first session whose run time is at or after `moment`."""
        from alchemiser.domain.sessions import session_of  # noqa: PLC0415 - runtime only

        calendar = self._calendar()
        session = calendar.next_session(session_of(moment))
        while self._run_time(session.close) < moment:
            session = calendar.next_session(session.day + timedelta(days=1))
        return session

    def _run_time(self, close: datetime) -> datetime:
        return close - timedelta(minutes=self.minutes_before_close)

    def _calendar(self) -> TradingCalendar:
        # Runtime import: see the module docstring (the DAG file must stay light to parse).
        from alchemiser.calendars.trading import calendar  # noqa: PLC0415 - runtime only

        return calendar(self.calendar_name)
