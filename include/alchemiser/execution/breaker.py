"""The in-run circuit breaker: a phase's slippage and rejection budgets (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk


def breaker_reason(walks: Sequence[Walk], rejected: int, settings: ExecutionSettings) -> str | None:
    """Return why the phase must stop now, or None while it is within its budgets.

    Slippage is realised: each walk's average fill so far against its arrival mid, in bps,
    positive when it cost us; the phase figure weighs each walk by its filled value.
    """
    if rejected >= settings.max_rejected_orders:
        return f"{rejected} orders rejected (max_rejected_orders={settings.max_rejected_orders})"
    weighted, value = Decimal(0), Decimal(0)
    for walk in walks:
        slippage = walk.slippage_bps()
        if slippage is None or walk.arrival_mid is None:
            continue
        if slippage > settings.max_order_slippage_bps:
            return (
                f"{walk.symbol} filled {slippage} bps worse than its arrival mid "
                f"{walk.arrival_mid} (max_order_slippage_bps={settings.max_order_slippage_bps})"
            )
        filled = walk.filled_qty * walk.arrival_mid
        weighted += slippage * filled
        value += filled
    if value > 0 and weighted / value > settings.max_phase_slippage_bps:
        return (
            f"phase slippage {weighted / value:.2f} bps over {value:.2f} filled "
            f"(max_phase_slippage_bps={settings.max_phase_slippage_bps})"
        )
    return None
