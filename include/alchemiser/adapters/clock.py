"""The real clock: the one place that reads the wall clock and really sleeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """Clock port on the system time (UTC)."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)  # noqa: TID251 - this adapter IS the injected clock

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        time.sleep(seconds)
