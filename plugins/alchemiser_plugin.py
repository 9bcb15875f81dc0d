"""Registers alchemiser's Airflow extensions (the scheduler imports timetables from plugins)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from alchemiser_airflow.links import ReportLink
from alchemiser_airflow.timetable import TradingSessionTimetable


class AlchemiserPlugin(AirflowPlugin):
    """The trading-day timetable and the report task's link."""

    name = "alchemiser"
    timetables = [TradingSessionTimetable]  # noqa: RUF012 - the attribute Airflow reads
    operator_extra_links = [ReportLink()]  # noqa: RUF012 - the attribute Airflow reads
