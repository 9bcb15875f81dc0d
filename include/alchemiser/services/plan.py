"""build_plan: targets + the live portfolio -> a rebalance plan, stored with its snapshot."""

from __future__ import annotations

from typing import Literal

import structlog
from pydantic import Field

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import ArtifactNotFoundError, SessionMismatchError
from alchemiser.domain.keys import artifact_key
from alchemiser.domain.market import MarketClock
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.sessions import session_of
from alchemiser.domain.types import Frozen
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters
from alchemiser.risk.gate import SignalGate, check_targets
from alchemiser.risk.limits import RiskLimits, check_plan
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext
from alchemiser.services.last_traded import last_traded
from alchemiser.services.replay import ReplaySettings, plan_replay
from alchemiser.services.snapshot import take_snapshot

log = structlog.get_logger(__name__)

PLAN = "rebalance_plan"
SNAPSHOT = "portfolio_before"


class PlanOutput(Frozen):
    """What build_plan hands downstream through XCom."""

    plan: ArtifactRef
    snapshot: ArtifactRef
    trades: int = Field(ge=0)
    mode: Literal["trade", "replay"] = Field(
        description="replay: the session is past, so trades are simulated, never sent"
    )
    rebalanced_by: str | None = Field(
        default=None,
        description="the run that already traded this session (then nothing is placed "
        "unless force)",
    )


def plan_rebalance(
    run: RunContext,
    targets_ref: ArtifactRef,
    adapters: Adapters,
    settings: PlanSettings,
    replay: ReplaySettings,
    *,
    limits: RiskLimits | None = None,
    gate: SignalGate | None = None,
    force: bool = False,
    venue: MarketClock | None = None,
) -> PlanOutput:
    """Plan the trades to the stored targets: live for today's session, replayed for a past one.

    The broker's clock decides which (`venue`, the caller's reading of it, else read here):
    its session is the only one that may trade.
    """
    broker, store = adapters.broker, adapters.store
    broker_session = session_of((venue or broker.get_clock()).timestamp)
    if run.session > broker_session:
        raise SessionMismatchError(
            f"run {run.run_id} is for session {run.session} ({run.session_source}), after the "
            f"broker's current session {broker_session}: a future session cannot be planned"
        )
    # A backfill reaching the broker's own session replays it too (it needs that close).
    mode: Literal["trade", "replay"] = "replay" if run.replays(broker_session) else "trade"
    if mode == "trade" and (kept := _plan_of_a_run_that_traded(run, adapters)) is not None:
        return kept
    targets = load(store, targets_ref, TargetAllocation)
    if mode == "replay":
        plan, snapshot = plan_replay(run, targets, adapters, settings, replay)
    else:
        snapshot = take_snapshot(
            run.run_id, adapters, also_quote=targets.symbols, settings=settings
        )
        last = last_traded(store, snapshot.account_id)
        check_targets(targets, last, gate or SignalGate(), force)
        plan = build_plan(targets, snapshot, settings)
    check_plan(plan, limits or RiskLimits())  # before anything is saved or routed
    earlier = None
    if mode == "trade" and not force:
        done = TradeLedger(store, plan.account_id, adapters.clock).rebalanced_by(run.session)
        earlier = done.run_id if done is not None and done.run_id != run.run_id else None
    log.info(
        "plan built",
        run_id=run.run_id,
        mode=mode,
        sells=len(plan.sells),
        buys=len(plan.buys),
        held=[h.symbol for h in plan.held],
    )
    summary = f"{len(plan.sells)} sells, {len(plan.buys)} buys, value {plan.portfolio_value:.2f}"
    if plan.held:
        summary += f"; {plan.held_line()}"
    return PlanOutput(
        plan=save(store, run.prefix, PLAN, plan, summary),
        snapshot=save(store, run.prefix, SNAPSHOT, snapshot, "before trading"),
        trades=len(plan.items),
        mode=mode,
        rebalanced_by=earlier,
    )


def _plan_of_a_run_that_traded(run: RunContext, adapters: Adapters) -> PlanOutput | None:
    """Return this run's stored plan when the run already placed orders under it.

    A cleared build_plan (or a whole run cleared from the UI) must not re-plan against an
    account its own earlier orders changed: the execution phases return their recorded
    results, and the report must pair them with the plan they executed.
    """
    store = adapters.store
    plan_key = artifact_key(run.prefix, PLAN)
    try:
        plan = RebalancePlan.model_validate_json(store.get(plan_key))
    except ArtifactNotFoundError:
        return None
    if not TradeLedger(store, plan.account_id, adapters.clock).has_traded(run.session, run.run_id):
        return None
    log.info("plan kept: this run already traded under it", run_id=run.run_id)
    return PlanOutput(
        plan=ArtifactRef(
            artifact_id=plan.artifact_id, bucket=store.bucket, key=plan_key, summary="kept"
        ),
        snapshot=ArtifactRef(
            artifact_id=f"{PortfolioSnapshot.KIND}:{run.run_id}",
            bucket=store.bucket,
            key=artifact_key(run.prefix, SNAPSHOT),
            summary="before trading",
        ),
        trades=len(plan.items),
        mode="trade",
    )
