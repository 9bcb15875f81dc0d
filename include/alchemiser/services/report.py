"""report: gather what a run left in the store, re-read final order states, value the result.

Written for every outcome: the report is the run's teardown, so it also runs after a task
failed, timed out, was killed or met the kill switch. Whatever exists is reported; what does
not (no plan because the signals failed, no account because the broker is down) is said so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeGuard

import structlog

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import BrokerError, MarketDataError
from alchemiser.domain.keys import (
    REPORT_CHART,
    REPORT_PAGE,
    REPORT_TEXT,
    artifact_key,
    run_file_key,
)
from alchemiser.domain.orders import OrderStatus, PhaseResult, PhaseStatus
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.replay import REPLAY_ACCOUNT, ReplayResult
from alchemiser.domain.report import (
    ArtifactRef,
    OrderTally,
    Outcome,
    RunReport,
    TaskFailure,
    WeightComparison,
)
from alchemiser.domain.types import CENT, Frozen
from alchemiser.ledger.entry import LedgerEntry, LedgerState
from alchemiser.ports import Adapters
from alchemiser.reporting.chart import weights_chart
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext
from alchemiser.services.history import record_run, summarize
from alchemiser.services.last_traded import keep_last_traded
from alchemiser.services.render import render_html, render_text
from alchemiser.services.snapshot import take_snapshot

log = structlog.get_logger(__name__)

_OPEN_OK = {PhaseStatus.SUCCESS, PhaseStatus.SKIPPED}


class ReportRefs(Frozen):
    """The artifacts a run produced (each None when its task never wrote it)."""

    targets: ArtifactRef | None = None
    plan: ArtifactRef | None = None
    snapshot: ArtifactRef | None = None
    sells: ArtifactRef | None = None
    buys: ArtifactRef | None = None
    replay: ArtifactRef | None = None
    rebalanced_by: str | None = None

    def all(self) -> tuple[ArtifactRef, ...]:
        """Return the references that exist, in flow order."""
        found = (self.targets, self.plan, self.snapshot, self.sells, self.buys, self.replay)
        return tuple(r for r in found if r is not None)


ARTIFACTS = {
    "targets": "target_allocation",
    "plan": "rebalance_plan",
    "snapshot": "portfolio_before",
    "sells": "phase_sells",
    "buys": "phase_buys",
    "replay": "replay",
}
"""ReportRefs field -> the artifact name its task saves under the run's prefix."""


def find_refs(run: RunContext, adapters: Adapters, rebalanced_by: str | None) -> ReportRefs:
    """Return references to whatever artifacts this run's tasks wrote (one listing)."""
    store = adapters.store
    present = set(store.list_keys(f"{run.prefix}/"))
    refs = {
        field: ArtifactRef(
            artifact_id=f"{name}:{run.run_id}", bucket=store.bucket, key=key, summary=name
        )
        for field, name in ARTIFACTS.items()
        if (key := artifact_key(run.prefix, name)) in present
    }
    return ReportRefs(**refs, rebalanced_by=rebalanced_by)


def tally(entries: tuple[LedgerEntry, ...]) -> OrderTally:
    """Count one run's ledger entries by how their orders ended."""
    placed = [e for e in entries if e.broker_order_id is not None]
    final = [e for e in placed if e.state is LedgerState.TERMINAL]

    def ended(*statuses: OrderStatus) -> list[LedgerEntry]:
        return [e for e in final if e.status in statuses]

    stopped = ended(OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.DONE_FOR_DAY)
    return OrderTally(
        intents=len(entries),
        placed=len(placed),
        filled=len(ended(OrderStatus.FILLED)),
        partially_filled=sum(1 for e in stopped if e.filled_qty > 0),
        replaced=len(ended(OrderStatus.REPLACED)),
        canceled=len(stopped),
        rejected=len(ended(OrderStatus.REJECTED))
        + sum(1 for e in entries if e.broker_order_id is None and e.status is OrderStatus.REJECTED),
        open=len([e for e in placed if e.state is not LedgerState.TERMINAL]),
        unconfirmed=sum(
            1 for e in entries if e.broker_order_id is None and e.state is not LedgerState.TERMINAL
        ),
        traded_value=sum(
            (e.filled_qty * e.filled_avg_price for e in placed if e.filled_avg_price),
            Decimal(0),
        ).quantize(CENT),
    )


def write_report(
    run: RunContext,
    refs: ReportRefs,
    adapters: Adapters,
    *,
    live: bool | None = None,
    failures: tuple[TaskFailure, ...] = (),
    orders: OrderTally | None = None,
    cleanup: str = "",
) -> ArtifactRef:
    """Write the run report (JSON, text, HTML and its chart) and return its reference."""
    store = adapters.store
    targets = load(store, refs.targets, TargetAllocation) if refs.targets else None
    plan = load(store, refs.plan, RebalancePlan) if refs.plan else None
    before = load(store, refs.snapshot, PortfolioSnapshot) if refs.snapshot else None
    sells, buys = (
        _final(adapters, load(store, r, PhaseResult)) if r else None
        for r in (refs.sells, refs.buys)
    )
    replay = load(store, refs.replay, ReplayResult) if refs.replay else None
    # A replay whose replay task failed has no result, but its book is the simulated one still;
    # a backfill replays whatever failed, before its plan included: it never trades.
    replayed = replay is not None or run.backfill or _simulated(before)
    after, after_error = _after(run, adapters, targets, before, replay)
    outcome = _outcome(
        plan, sells, buys, rebalanced_by=refs.rebalanced_by, replay=replay, failures=failures
    )
    report = RunReport(
        run_id=run.run_id,
        derived_from=tuple(
            a.artifact_id for a in (targets, plan, before, sells, buys, replay) if a is not None
        ),
        session=run.session,
        session_source=run.session_source,
        venue="replay (simulated fills at the close)" if replayed else adapters.broker.venue,
        live=None if replayed else live,
        outcome=outcome,
        note=_note(refs, plan, buys, failures, orders, account_read=after is not None),
        targets=targets,
        plan=plan,
        before=before,
        sells=sells,
        buys=buys,
        replay=replay,
        after=after,
        after_error=after_error,
        weights=_compare(targets, after) if targets and after else (),
        failures=failures,
        orders=orders,
        cleanup=cleanup,
        artifacts=refs.all(),
    )
    ref = save(store, run.prefix, "report", report, f"outcome {report.outcome}")
    text, html = run_file_key(run.prefix, REPORT_TEXT), run_file_key(run.prefix, REPORT_PAGE)
    ref = ref.model_copy(update={"link": store.link(html)})
    if report.outcome in {"success", "partial"} and targets is not None and plan is not None:
        # What the book was last traded towards: the signal gate compares the next targets.
        keep_last_traded(store, plan.account_id, targets)
    store.put(text, render_text(report, ref.uri).encode(), "text/plain")
    store.put(run_file_key(run.prefix, REPORT_CHART), weights_chart(report.weights), "image/png")
    store.put(html, render_html(report, ref.uri, REPORT_CHART).encode(), "text/html")
    record_run(store, summarize(report, ref.key, adapters.clock.now()))
    log.info("run report written", run_id=run.run_id, key=ref.key, outcome=report.outcome)
    return ref


def _simulated(book: PortfolioSnapshot | None) -> TypeGuard[PortfolioSnapshot]:
    """Return True for a replay's book: simulated, never a broker account."""
    return book is not None and book.account_id == REPLAY_ACCOUNT


def _after(
    run: RunContext,
    adapters: Adapters,
    targets: TargetAllocation | None,
    before: PortfolioSnapshot | None,
    replay: ReplayResult | None,
) -> tuple[PortfolioSnapshot | None, str]:
    """Return the book after the run, or why it could not be read (the report is written still)."""
    if _simulated(before):
        # A replay's book: moved by its fills, or as it was when the replay did not run.
        if replay is None:
            return before, ""
        return before.model_copy(
            update={"cash": replay.after.cash, "holdings": replay.after.holdings}
        ), ""
    try:
        symbols = targets.symbols if targets else ()
        return take_snapshot(run.run_id, adapters, also_quote=symbols), ""
    except (BrokerError, MarketDataError) as exc:
        log.error("account after the run not readable", run_id=run.run_id, error=str(exc))
        return None, f"{type(exc).__name__}: {exc}"


def _final(adapters: Adapters, phase: PhaseResult) -> PhaseResult:
    """Return the phase with its orders as the broker sees them now (fills after the phase)."""
    if not phase.orders:
        return phase
    try:
        orders = adapters.broker.get_orders([o.client_order_id for o in phase.orders])
    except BrokerError as exc:
        log.warning("final order states not readable: reporting the recorded ones", error=str(exc))
        return phase
    return phase.model_copy(update={"orders": orders})


def _outcome(
    plan: RebalancePlan | None,
    sells: PhaseResult | None,
    buys: PhaseResult | None,
    *,
    rebalanced_by: str | None,
    replay: ReplayResult | None,
    failures: tuple[TaskFailure, ...],
) -> Outcome:
    if any(f.kind == "kill_switch" for f in failures):
        return "halted"
    if any(f.kind != "partial" for f in failures) or plan is None:
        return "failed"
    if replay is not None:
        return "replayed"
    if rebalanced_by is not None:
        return "already_rebalanced"
    return _traded(plan, sells, buys)


def _traded(plan: RebalancePlan, sells: PhaseResult | None, buys: PhaseResult | None) -> Outcome:
    # A symbol held back (not tradable, no usable quote) makes the session partial.
    if plan.is_empty:
        return "partial" if plan.held else "no_trades"
    if sells is None and buys is None:
        return "plan_only"  # the route sent a plan with trades nowhere: plan_only was asked
    phases = [p for p in (sells, buys) if p is not None]
    complete = (sells is not None or not plan.sells) and (buys is not None or not plan.buys)
    if complete and all(p.status in _OPEN_OK for p in phases):
        return "partial" if plan.held else "success"
    if any(p.filled_value > 0 for p in phases):
        return "partial"
    return "failed"


def _note(
    refs: ReportRefs,
    plan: RebalancePlan | None,
    buys: PhaseResult | None,
    failures: tuple[TaskFailure, ...],
    orders: OrderTally | None,
    *,
    account_read: bool,
) -> str:
    if failures:
        what = "; ".join(f"{f.task_id} {f.kind}: {f.error}" for f in failures)
        traded = (
            f" Orders: {orders.summary()}; traded {orders.traded_value:,.2f}."
            if orders is not None
            else ""
        )
        now = _state_now(orders, account_read)
        if all(f.kind == "partial" for f in failures):
            return f"Run marked failed by its partial policy: {what}.{traded}{now}"
        return f"Run did not finish: {what}.{traded}{now}"
    if refs.rebalanced_by:
        return (
            f"session already rebalanced by run {refs.rebalanced_by}: nothing placed "
            "(trigger with force=true to trade it again)"
        )
    if plan is not None and plan.is_empty:
        return "the book is within its rebalance band of the targets: nothing to trade"
    unbought = (buys.unbought if buys is not None else None) or Decimal(0)
    if plan is not None and buys is not None and unbought >= plan.min_trade:
        # A success, but not the book the plan asked for: said where the outcome is read, when
        # what was left is worth a trade (the slippage buffer always leaves a little).
        why = (
            f"scaled down to {buys.scale * 100:.2f}% of the plan by the buying budget "
            f"{buys.budget or 0:,.2f}"
            if buys.scale is not None and buys.scale < 1
            else "not all of them filled"
        )
        return f"Buys left {unbought:,.2f} unbought ({why}); the next session's plan picks it up."
    return ""


def _state_now(orders: OrderTally | None, account_read: bool) -> str:
    """Say where a failed run left the account: what an operator checks first."""
    if orders is None:
        return ""
    left = []
    if orders.open:
        left.append(f"{orders.open} order(s) of this run are STILL OPEN at the broker")
    if orders.unconfirmed:
        # Recorded before the request, never answered, and the cleanup could not ask: unknown.
        left.append(
            f"{orders.unconfirmed} order request(s) of this run the broker never confirmed "
            "could not be looked up: they may be working"
        )
    if left:
        return (
            f" {'; '.join(left)}: the report task fails so that Airflow retries their cancel; "
            "check the broker."
        )
    if not account_read:
        return (
            " Nothing of this run is still working at the broker, but the account could not be "
            "read after the run: check it at the broker before the next run."
        )
    return (
        " Nothing of this run is still working at the broker: the account is as 'After' shows,"
        " and the next run plans from it."
    )


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
