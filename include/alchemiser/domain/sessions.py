"""Trading sessions are New York dates; this module owns that conversion."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def session_of(moment: datetime) -> date:
    """Return the New York calendar date of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    return moment.astimezone(NEW_YORK).date()
