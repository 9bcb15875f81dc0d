"""When a phase may trade: from the broker's clock and calendar, never from ours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alchemiser.domain.errors import MarketClosedError
from alchemiser.domain.sessions import session_of
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ports import Broker, Clock


@dataclass(frozen=True)
class PhaseWindow:
    """Deadlines of one phase on our clock, and the broker's time when it was computed."""

    broker_now: datetime
    walk_deadline: datetime
    hard_deadline: datetime
    computed_at: datetime

    def broker_time(self, now: datetime) -> datetime:
        """Return the broker's time now: its clock when the window was set, plus what passed."""
        return self.broker_now + (now - self.computed_at)


def trading_window(broker: Broker, clock: Clock, settings: ExecutionSettings) -> PhaseWindow:
    """Return the phase's deadlines, or raise MarketClosedError when no order may be placed.

    Distances come from the broker's clock (to the session's open and close, early closes
    included) and are laid onto our clock, so an offset between the two does not matter.
    """
    venue = broker.get_clock()
    if not venue.is_open:
        raise MarketClosedError(
            f"market closed at {venue.timestamp.isoformat()} (next open "
            f"{venue.next_open.isoformat()}): no orders placed"
        )
    open_at, close_at = broker.get_session_hours(session_of(venue.timestamp))
    ready_at = open_at + timedelta(minutes=settings.open_delay_minutes)
    if venue.timestamp < ready_at:
        raise MarketClosedError(
            f"market opened at {open_at.isoformat()}; orders wait until {ready_at.isoformat()} "
            f"(open_delay_minutes={settings.open_delay_minutes}): no orders placed"
        )
    stop_at = close_at - timedelta(minutes=settings.close_buffer_minutes)
    left = (stop_at - venue.timestamp).total_seconds()
    if left <= 0:
        raise MarketClosedError(
            f"market closes at {close_at.isoformat()}; walks end "
            f"{settings.close_buffer_minutes} min before it: no orders placed"
        )
    now = clock.now()
    total = min(settings.walk_seconds + settings.market_fill_seconds, left)
    hard = now + timedelta(seconds=total)
    walk = max(now, hard - timedelta(seconds=settings.market_fill_seconds))
    return PhaseWindow(
        broker_now=venue.timestamp,
        walk_deadline=min(walk, now + timedelta(seconds=settings.walk_seconds)),
        hard_deadline=hard,
        computed_at=now,
    )
