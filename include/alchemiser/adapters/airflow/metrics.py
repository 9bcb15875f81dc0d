"""Metrics through Airflow's metrics interface (StatsD or OpenTelemetry, as Airflow is set up).

With `[metrics] statsd_on` (or otel_on) off, Airflow's backend is a no-op and so is this.
Names: `alchemiser.orders.placed|filled|rejected`, `alchemiser.slippage_bps` (per walk, tagged
by side), `alchemiser.phase.<sells|buys>` (duration), `alchemiser.settlement.wait`,
`alchemiser.strategy.warnings` (substituted values and dropped candidates, tagged by strategy).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk.observability.stats import Stats

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import PhaseResult, WalkOutcome


def phase_metrics(phase: PhaseResult) -> None:
    """Emit a finished phase's order counts, slippage and duration."""
    tags = {"phase": phase.phase}
    Stats.incr("alchemiser.orders.placed", sum(w.steps for w in phase.walks), tags=tags)
    filled = sum(1 for w in phase.walks if w.outcome is WalkOutcome.FILLED)
    rejected = sum(1 for w in phase.walks if w.outcome is WalkOutcome.REJECTED)
    Stats.incr("alchemiser.orders.filled", filled, tags=tags)
    Stats.incr("alchemiser.orders.rejected", rejected, tags=tags)
    for walk in phase.walks:
        if walk.slippage_bps is not None:
            # Metrics backends take floats; the Decimal stays exact in the phase artifact.
            Stats.gauge("alchemiser.slippage_bps", float(walk.slippage_bps), tags=tags)
    Stats.timing(f"alchemiser.phase.{phase.phase}", phase.finished_at - phase.started_at)


def settlement_wait(waited: timedelta) -> None:
    """Emit how long the buys waited for the sells' proceeds."""
    Stats.timing("alchemiser.settlement.wait", waited)


def strategy_warnings(targets: TargetAllocation) -> None:
    """Emit how many values each strategy substituted or candidates it dropped (0 included)."""
    for contribution in targets.contributions:
        tags = {"strategy": contribution.strategy}
        Stats.incr("alchemiser.strategy.warnings", len(contribution.warnings), tags=tags)
