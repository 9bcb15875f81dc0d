"""How long a phase sleeps between polls: back off while nothing happens, never past a due step.

Resting limits that are not due to step need no once-a-second watching: after a poll that
changed nothing the pause doubles, up to `POLL_BACKOFF` times `poll_interval_seconds`, but
never beyond the next moment something is due (a step, a final order's deadline, the phase's
deadlines); any change (a fill, a placed, replaced or canceled order) resets it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime

from alchemiser.execution.hours import PhaseWindow
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk

POLL_BACKOFF = 4
"""The longest pause, in poll intervals (1 s by default: at most 4 s between looks)."""


def fingerprint(walks: Sequence[Walk]) -> Hashable:
    """Return what a poll or an action can change about the walks, to tell if one did."""
    return tuple(
        (
            w.step,
            w.outcome,
            w.going_final,
            w.stopping is not None,
            tuple((o.status, o.filled_qty) for o in w.orders.values()),
        )
        for w in walks
    )


def next_pause(
    walks: Sequence[Walk],
    pause: float,
    now: datetime,
    window: PhaseWindow,
    settings: ExecutionSettings,
) -> float:
    """Return the sleep before the next poll: `pause`, cut short to reach the next due moment."""
    due = [window.walk_deadline, window.hard_deadline]
    for walk in walks:
        if not walk.done:
            due += [t for t in (walk.next_step_at, walk.final_deadline) if t is not None]
    ahead = [(t - now).total_seconds() for t in due if t > now]
    if not ahead:
        return settings.poll_interval_seconds
    return min(pause, max(min(ahead), settings.poll_interval_seconds))


def backed_off(pause: float, settings: ExecutionSettings) -> float:
    """Return the pause after a tick that changed nothing."""
    return min(pause * 2, settings.poll_interval_seconds * POLL_BACKOFF)
