"""When a phase may trade: from the broker's clock and calendar, never from ours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alchemiser.domain.errors import ConfigError, MarketClosedError
from alchemiser.domain.market import MarketClock
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


class SessionTimingError(ConfigError):
    """The run's worst-case timeline does not fit before the session's close buffer."""


def worst_case_seconds(settings: ExecutionSettings, settlement_seconds: float) -> float:
    """Return the longest a trade can take: sells, the settlement wait, buys, task starts."""
    phase = (
        settings.walk_seconds + settings.market_fill_seconds + settings.deadline_cancel_wait_seconds
    )
    return 2 * phase + settlement_seconds + settings.task_overhead_seconds


def check_timeline(
    broker: Broker,
    settings: ExecutionSettings,
    settlement_seconds: float,
    venue: MarketClock | None = None,
) -> datetime:
    """Refuse a run whose worst case cannot finish before the close buffer; return the cutoff.

    Judged on the broker's clock when the run is planned (`venue`, the reading the plan was
    made at; read here when not given), with the configured deadlines, so a schedule or a
    manual run too late in the session is refused before any order, naming the numbers.
    """
    venue = venue or broker.get_clock()
    open_at, close_at = broker.get_session_hours(session_of(venue.timestamp))
    ready_at = open_at + timedelta(minutes=settings.open_delay_minutes)
    if not venue.is_open or venue.timestamp < ready_at:
        raise SessionTimingError(
            f"market {'closed' if not venue.is_open else 'just opened'} at "
            f"{venue.timestamp.isoformat()}: orders may go from {ready_at.isoformat()} (open "
            f"plus open_delay_minutes={settings.open_delay_minutes}); trigger the run then: "
            "nothing placed"
        )
    stop_at = close_at - timedelta(minutes=settings.close_buffer_minutes)
    need = worst_case_seconds(settings, settlement_seconds)
    left = (stop_at - venue.timestamp).total_seconds()
    phase = (
        f"{settings.walk_seconds:.0f}+{settings.market_fill_seconds:.0f}"
        f"+{settings.deadline_cancel_wait_seconds:.0f} s"
    )
    if need > left:
        raise SessionTimingError(
            f"too late to trade: the worst case takes {need:.0f} s (sells {phase}, settlement "
            f"{settlement_seconds:.0f} s, buys {phase}, task starts "
            f"{settings.task_overhead_seconds:.0f} s) but only "
            f"{max(0.0, left):.0f} s are left at {venue.timestamp.isoformat()} "
            f"before {stop_at.isoformat()} (close {close_at.isoformat()} less "
            f"close_buffer_minutes={settings.close_buffer_minutes}); run earlier or shorten "
            "walk_seconds / market_fill_seconds: nothing placed"
        )
    return stop_at
