"""Registers alchemiser's Airflow extensions (the scheduler imports timetables from plugins)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from alchemiser_airflow.timetable import TradingSessionTimetable


class AlchemiserPlugin(AirflowPlugin):
    """The trading-day timetable."""

    name = "alchemiser"
    timetables = [TradingSessionTimetable]  # noqa: RUF012 - the attribute Airflow reads
