"""report: gather the run's artifacts, re-read final order states, value the result."""

from __future__ import annotations

from decimal import Decimal

import structlog

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import OrderStatus, PhaseResult
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.report import ArtifactRef, Outcome, RunReport, WeightComparison
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext
from alchemiser.services.render import render_text
from alchemiser.services.snapshot import take_snapshot

log = structlog.get_logger(__name__)


def write_report(
    run: RunContext,
    targets_ref: ArtifactRef,
    plan_refs: tuple[ArtifactRef, ArtifactRef],
    phase_refs: tuple[ArtifactRef | None, ArtifactRef | None],
    adapters: Adapters,
) -> ArtifactRef:
    """Write the run report (JSON and text) and return its reference."""
    store = adapters.store
    targets = load(store, targets_ref, TargetAllocation)
    plan = load(store, plan_refs[0], RebalancePlan)
    before = load(store, plan_refs[1], PortfolioSnapshot)
    sells, buys = (_final(adapters, load(store, r, PhaseResult)) if r else None for r in phase_refs)
    after = take_snapshot(run.run_id, adapters, also_quote=targets.symbols)
    report = RunReport(
        run_id=run.run_id,
        derived_from=tuple(
            a.artifact_id for a in (targets, plan, before, sells, buys) if a is not None
        ),
        session=run.session,
        venue=adapters.broker.venue,
        outcome=_outcome(plan, sells, buys),
        targets=targets,
        plan=plan,
        before=before,
        sells=sells,
        buys=buys,
        after=after,
        weights=_compare(targets, after),
        artifacts=tuple(r for r in (targets_ref, *plan_refs, *phase_refs) if r is not None),
    )
    ref = save(store, run.prefix, "report", report, f"outcome {report.outcome}")
    store.put(f"{run.prefix}/report.txt", render_text(report, ref.uri).encode())
    log.info("run report written", run_id=run.run_id, key=ref.key)
    return ref


def _final(adapters: Adapters, phase: PhaseResult) -> PhaseResult:
    """Return the phase with its orders as the broker sees them now (fills after the phase)."""
    if not phase.orders:
        return phase
    orders = adapters.broker.get_orders([o.client_order_id for o in phase.orders])
    return phase.model_copy(update={"orders": orders})


def _outcome(plan: RebalancePlan, sells: PhaseResult | None, buys: PhaseResult | None) -> Outcome:
    if plan.is_empty:
        return "no_trades"
    orders = [o for p in (sells, buys) if p is not None for o in p.orders]
    if len(orders) == len(plan.items) and all(o.status is OrderStatus.FILLED for o in orders):
        return "success"
    if any(o.filled_qty > 0 for o in orders):
        return "partial"
    return "failed"


def _compare(targets: TargetAllocation, after: PortfolioSnapshot) -> tuple[WeightComparison, ...]:
    actual = after.weights()
    symbols = sorted(set(targets.symbols) | set(actual))
    return tuple(
        WeightComparison(
            symbol=s,
            target=targets.weight_of(s),
            actual=min(Decimal(1), actual.get(s, Decimal(0))),
        )
        for s in symbols
    )
