"""report: gather the run's artifacts, re-read final order states, value the result."""

from __future__ import annotations

from decimal import Decimal

import structlog

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import OrderStatus, PhaseResult
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.replay import ReplayResult
from alchemiser.domain.report import ArtifactRef, Outcome, RunReport, WeightComparison
from alchemiser.domain.types import Frozen
from alchemiser.ports import Adapters
from alchemiser.reporting.chart import weights_chart
from alchemiser.reporting.html import render_html
from alchemiser.risk.gate import LAST_TARGETS_KEY
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext
from alchemiser.services.render import render_text
from alchemiser.services.snapshot import take_snapshot

log = structlog.get_logger(__name__)

CHART = "weights.png"


class ReportRefs(Frozen):
    """The artifacts a run produced, as the report task receives them."""

    targets: ArtifactRef
    plan: ArtifactRef
    snapshot: ArtifactRef
    sells: ArtifactRef | None = None
    buys: ArtifactRef | None = None
    replay: ArtifactRef | None = None
    rebalanced_by: str | None = None

    def all(self) -> tuple[ArtifactRef, ...]:
        """Return the references that exist, in flow order."""
        found = (self.targets, self.plan, self.snapshot, self.sells, self.buys, self.replay)
        return tuple(r for r in found if r is not None)


def write_report(run: RunContext, refs: ReportRefs, adapters: Adapters) -> ArtifactRef:
    """Write the run report (JSON and text) and return its reference."""
    store = adapters.store
    targets = load(store, refs.targets, TargetAllocation)
    plan = load(store, refs.plan, RebalancePlan)
    before = load(store, refs.snapshot, PortfolioSnapshot)
    sells, buys = (
        _final(adapters, load(store, r, PhaseResult)) if r else None
        for r in (refs.sells, refs.buys)
    )
    replay = load(store, refs.replay, ReplayResult) if refs.replay else None
    if replay is not None:
        after = _replayed(before, replay)
    else:
        after = take_snapshot(run.run_id, adapters, also_quote=targets.symbols)
    report = RunReport(
        run_id=run.run_id,
        derived_from=tuple(
            a.artifact_id for a in (targets, plan, before, sells, buys, replay) if a is not None
        ),
        session=run.session,
        session_source=run.session_source,
        venue="replay (simulated fills at the close)" if replay else adapters.broker.venue,
        outcome="replayed" if replay else _outcome(plan, sells, buys, refs.rebalanced_by),
        note=(
            f"session already rebalanced by run {refs.rebalanced_by}: nothing placed "
            "(trigger with force=true to trade it again)"
            if refs.rebalanced_by
            else ""
        ),
        targets=targets,
        plan=plan,
        before=before,
        sells=sells,
        buys=buys,
        replay=replay,
        after=after,
        weights=_compare(targets, after),
        artifacts=refs.all(),
    )
    ref = save(store, run.prefix, "report", report, f"outcome {report.outcome}")
    ref = ref.model_copy(update={"link": store.link(f"{run.prefix}/report.html")})
    if report.outcome in {"success", "partial"}:
        # What the book was last traded towards: the signal gate compares the next targets.
        store.put(LAST_TARGETS_KEY, targets.model_dump_json(indent=2).encode())
    store.put(f"{run.prefix}/report.txt", render_text(report, ref.uri).encode(), "text/plain")
    store.put(f"{run.prefix}/{CHART}", weights_chart(report.weights), "image/png")
    store.put(f"{run.prefix}/report.html", render_html(report, CHART).encode(), "text/html")
    log.info("run report written", run_id=run.run_id, key=ref.key)
    return ref


def _replayed(before: PortfolioSnapshot, replay: ReplayResult) -> PortfolioSnapshot:
    """Return the book after a replay as a snapshot priced at the same closes."""
    return before.model_copy(update={"cash": replay.after.cash, "holdings": replay.after.holdings})


def _final(adapters: Adapters, phase: PhaseResult) -> PhaseResult:
    """Return the phase with its orders as the broker sees them now (fills after the phase)."""
    if not phase.orders:
        return phase
    orders = adapters.broker.get_orders([o.client_order_id for o in phase.orders])
    return phase.model_copy(update={"orders": orders})


def _outcome(
    plan: RebalancePlan,
    sells: PhaseResult | None,
    buys: PhaseResult | None,
    rebalanced_by: str | None,
) -> Outcome:
    if rebalanced_by is not None:
        return "already_rebalanced"
    # A symbol held back (not tradable, no usable quote) makes the session partial.
    if plan.is_empty:
        return "partial" if plan.held else "no_trades"
    if sells is None and buys is None:
        return "plan_only"  # the route sent a plan with trades nowhere: plan_only was asked
    orders = [o for p in (sells, buys) if p is not None for o in p.orders]
    if len(orders) == len(plan.items) and all(o.status is OrderStatus.FILLED for o in orders):
        return "partial" if plan.held else "success"
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
