"""Rebuild walks from the orders an earlier try of their task placed (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from alchemiser.domain.orders import OrderResult, OrderStatus
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk


def rebuild(
    walks: Sequence[Walk],
    found: Mapping[str, OrderResult],
    settings: ExecutionSettings,
    now: datetime,
) -> list[Walk]:
    """Record each walk's orders found at the broker and resume it; return the walks resumed."""
    resumed = []
    for walk in walks:
        for cid in walk.ids:
            if cid in found:
                walk.record(found[cid])
        live = walk.live
        if live is None:
            continue
        resumed.append(walk)
        first = walk.orders[min(walk.orders)]
        if first.qty is not None:
            walk.target_qty = first.qty  # what the earlier try sized, not a re-sizing now
        walk.next_step_at = now
        walk.level = min(walk.step, settings.limit_steps - 1)
        previous = walk.orders.get(walk.step - 1)
        # Limit steps are replacements (the order before is `replaced`); the final order
        # follows a cancel, and a market order can only be the final one.
        if live.limit_price is None or (
            previous is not None and previous.status is OrderStatus.CANCELED
        ):
            walk.final_index = walk.step
            walk.final_deadline = now + timedelta(seconds=settings.market_fill_seconds)
        # Only we cancel a limit step, to send the final order or at a deadline: either way a
        # canceled limit step with shares left resumes with the final order.
        walk.going_final = live.status is OrderStatus.CANCELED and not walk.at_final
    return resumed
