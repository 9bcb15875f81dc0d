"""The trading-day timetable: sessions only, before the (early) close, across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from alchemiser_airflow.timetable import TradingSessionTimetable


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> pendulum.DateTime:
    return pendulum.instance(datetime(year, month, day, hour, minute, tzinfo=UTC))


def _runs(
    timetable: TradingSessionTimetable, start: pendulum.DateTime, n: int
) -> list[tuple[str, str, str]]:
    """Return (session, run_after UTC, interval end UTC) for the next n runs with catch-up."""
    runs = []
    last: DataInterval | None = None
    restriction = TimeRestriction(earliest=start, latest=None, catchup=True)
    for _ in range(n):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=restriction
        )
        assert info is not None
        assert info.data_interval is not None
        assert info.logical_date is not None
        last = info.data_interval
        runs.append(
            (
                info.logical_date.in_timezone("America/New_York").date().isoformat(),
                info.run_after.in_timezone("UTC").strftime("%m-%d %H:%M"),
                info.data_interval.end.in_timezone("UTC").strftime("%H:%M"),
            )
        )
    return runs


def test_thanksgiving_week_skips_the_holiday_and_runs_before_the_early_close() -> None:
    runs = _runs(TradingSessionTimetable(), _utc(2026, 11, 23), 5)
    assert runs == [
        ("2026-11-23", "11-23 20:45", "21:00"),
        ("2026-11-24", "11-24 20:45", "21:00"),
        ("2026-11-25", "11-25 20:45", "21:00"),
        ("2026-11-27", "11-27 17:45", "18:00"),  # early close 13:00 New York
        ("2026-11-30", "11-30 20:45", "21:00"),  # weekend skipped
    ]


def test_daylight_saving_start_moves_the_run_an_hour_earlier_in_utc() -> None:
    runs = _runs(TradingSessionTimetable(minutes_before_close=30), _utc(2026, 3, 6), 2)
    assert runs == [
        ("2026-03-06", "03-06 20:30", "21:00"),  # EST: close 21:00 UTC
        ("2026-03-09", "03-09 19:30", "20:00"),  # EDT: close 20:00 UTC
    ]


def test_the_data_interval_is_the_session_so_the_logical_date_names_the_day() -> None:
    info = TradingSessionTimetable().next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=_utc(2026, 11, 21), latest=None, catchup=True),
    )
    assert info is not None
    assert info.data_interval == DataInterval(_utc(2026, 11, 23, 14, 30), _utc(2026, 11, 23, 21))


def test_no_run_past_the_restrictions_end_and_none_without_a_start() -> None:
    timetable = TradingSessionTimetable()
    late = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(
            _utc(2026, 11, 25, 14, 30), _utc(2026, 11, 25, 21)
        ),
        restriction=TimeRestriction(
            earliest=_utc(2026, 1, 1), latest=_utc(2026, 11, 26), catchup=True
        ),
    )
    assert late is None
    assert (
        timetable.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
        )
        is None
    )


def test_manual_runs_cover_the_latest_session_that_has_opened() -> None:
    timetable = TradingSessionTimetable()
    saturday = timetable.infer_manual_data_interval(run_after=_utc(2026, 11, 21, 16))
    assert saturday.start == _utc(2026, 11, 20, 14, 30)
    before_open = timetable.infer_manual_data_interval(run_after=_utc(2026, 11, 23, 13))
    assert before_open.start == _utc(2026, 11, 20, 14, 30)


def test_serialization_round_trips_and_bad_offsets_are_refused() -> None:
    timetable = TradingSessionTimetable(minutes_before_close=20)
    again = TradingSessionTimetable.deserialize(timetable.serialize())
    assert again.serialize() == {"minutes_before_close": 20, "calendar_name": "XNYS"}
    assert again.summary == "XNYS close -20m"
    with pytest.raises(ValueError, match="between 0 and 390"):
        TradingSessionTimetable(minutes_before_close=-1)
