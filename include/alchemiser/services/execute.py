"""execute_sells and execute_buys: walk the plan's orders, measure them, record them.

Both are safe to re-run for the same task instance (a retry, a clear from the UI): every order
of a walk is keyed by a client order id derived from the task-instance key and the walk's
order number, so a re-run adopts the whole walk an earlier try left (placed, replaced, on its
way to market) instead of starting another; adopted buys are not re-sized; and the sells'
settlement baseline comes from the plan, not from an account an earlier try already changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import structlog
from pydantic import AwareDatetime, Field

from alchemiser.domain.errors import (
    ArtifactNotFoundError,
    PartialRunError,
    PhaseFailedError,
)
from alchemiser.domain.keys import artifact_key
from alchemiser.domain.orders import (
    PhaseResult,
    PhaseStatus,
    WalkOutcome,
    walk_phase_status,
)
from alchemiser.domain.plan import RebalancePlan, Side
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import CENT, Frozen, Money
from alchemiser.execution.hours import trading_window
from alchemiser.execution.phase import PhaseRunner
from alchemiser.execution.positions import (
    PositionMismatchError,
    expected_positions,
    position_differences,
)
from alchemiser.execution.quotes import Quotes
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ledger.journal import LedgeredBroker
from alchemiser.ledger.ledger import PhaseRecord, TradeLedger
from alchemiser.ledger.reconcile import reconcile
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import load, save
from alchemiser.services.buy_sizing import size_buys
from alchemiser.services.context import RunContext
from alchemiser.services.plan import SNAPSHOT

log = structlog.get_logger(__name__)

Halt = Callable[[], str | None]
"""Asked before and during a phase: a reason to stop (the kill switch), or None."""

OnPhase = Callable[[PhaseResult], None]
"""Told each phase result once it is saved (metrics), before any policy may fail the task."""


def _ignore(phase: PhaseResult) -> None:
    """The default OnPhase: nothing."""


def never() -> str | None:
    """The default halt: never stop."""
    return None


LEASE_TTL = timedelta(hours=1)
"""Long enough for both phases and the settlement wait; a crashed run frees it by expiry."""


class SellsOutput(Frozen):
    """What execute_sells hands the settlement sensor and the buys."""

    phase: ArtifactRef
    client_order_ids: tuple[str, ...] = Field(description="every order of every sell walk")
    baseline_budget: Money = Field(description="buying budget before this run's sells")
    finished_at: AwareDatetime = Field(description="when the sell phase ended (our clock)")


def walk_ids(
    task: TaskKey, symbol: str, side: Side, settings: ExecutionSettings
) -> tuple[str, ...]:
    """Return the ids of every order a walk may place: one per limit price, one final order."""
    return tuple(
        client_order_id(task, symbol, side, step) for step in range(settings.limit_steps + 1)
    )


def execute_sells(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
    *,
    halt: Halt = never,
    on_phase: OnPhase = _ignore,
) -> SellsOutput:
    """Walk the plan's sells (closing positions exactly) to fills, market, or the deadline.

    Positions are reconciled first: a book that moved since the plan (a manual trade, a
    corporate action) is not traded against the stale plan.
    """
    job = _begin(run, task, plan_ref, adapters, settings)
    if job.done is not None:
        log.info("sells already done: returning the recorded result", run_id=run.run_id)
        recorded = load(adapters.store, job.done.result, PhaseResult)
        return _sells_output(recorded, job.done.result, job.plan)
    # A partial sell phase does not fail here: the buys scale down to what it raised, and the
    # partial policy is applied once, after the buys.
    phase, ref = _walk_phase(job, Side.SELL, halt, on_phase)
    return _sells_output(phase, ref, job.plan)


def _sells_output(phase: PhaseResult, ref: ArtifactRef, plan: RebalancePlan) -> SellsOutput:
    return SellsOutput(
        phase=ref,
        client_order_ids=tuple(c for w in phase.walks for c in w.client_order_ids),
        baseline_budget=plan.buying_budget,
        finished_at=phase.finished_at,
    )


def execute_buys(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
    *,
    sells_status: PhaseStatus | None = None,
    halt: Halt = never,
    on_phase: OnPhase = _ignore,
) -> ArtifactRef:
    """Buy what the plan buys, scaled down to the buying budget actually available now.

    `sells_status` lets the partial policy judge the whole run: with the default policy the
    task fails (after writing its artifact) when the sells or the buys ended partial.
    """
    job = _begin(run, task, plan_ref, adapters, settings)
    if job.done is not None:
        log.info("buys already done: returning the recorded result", run_id=run.run_id)
        recorded = load(adapters.store, job.done.result, PhaseResult)
        # The phase is recorded before the positions are checked: a try that failed at the
        # check (the broker down) must not let this one return unchecked. Late fills (a
        # cancel at the deadline) are brought into the ledger first, as the phase does.
        reconcile(job.ledger, adapters.broker, run.session, task)
        check_positions(run, adapters, job.plan, job.ledger, settings, when="after the buys")
        _apply_partial_policy(recorded, sells_status, settings, job.plan)
        return job.done.result
    phase, ref = _walk_phase(job, Side.BUY, halt, on_phase)
    check_positions(run, adapters, job.plan, job.ledger, settings, when="after the buys")
    _apply_partial_policy(phase, sells_status, settings, job.plan)
    return ref


@dataclass(frozen=True)
class _Job:
    """One execution task of a run: its plan, the account's ledger, a finished try's record."""

    run: RunContext
    task: TaskKey
    adapters: Adapters
    settings: ExecutionSettings
    plan: RebalancePlan
    ledger: TradeLedger
    done: PhaseRecord | None


def _begin(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
) -> _Job:
    """Load the plan and its account's ledger, and look for the record of a finished try."""
    plan = load(adapters.store, plan_ref, RebalancePlan)
    ledger = TradeLedger(adapters.store, plan.account_id, adapters.clock)
    done = ledger.completed_phase(run.session, run.run_id, task.task_id)
    return _Job(run, task, adapters, settings, plan, ledger, done)


def _walk_phase(
    job: _Job, side: Side, halt: Halt, on_phase: OnPhase
) -> tuple[PhaseResult, ArtifactRef]:
    """Walk one side of the plan under the lease and the ledger; save and record its result.

    The skeleton both phases share: adopt an earlier try's orders, walk, save the phase's
    artifact, reconcile, then fail on a kill, a tripped breaker or a rejection.
    """
    run, task, plan, ledger, settings = job.run, job.task, job.plan, job.ledger, job.settings
    name: Literal["sells", "buys"] = "sells" if side is Side.SELL else "buys"
    adapters = _ledgered(run, task, job.adapters, ledger)
    if side is Side.SELL:
        check_positions(run, adapters, plan, ledger, settings, when="before the sells")
    started = adapters.clock.now()
    window = trading_window(adapters.broker, adapters.clock, settings)
    runner = PhaseRunner(adapters.broker, adapters.clock, settings, window, run.run_id, halt=halt)
    items = plan.sells if side is Side.SELL else plan.buys
    walks = [
        Walk(
            i.symbol, side, i.quantity, walk_ids(task, i.symbol, side, settings), plan_price=i.price
        )
        for i in items
    ]
    runner.adopt(walks)
    runner.halt_if_asked(walks)  # after adopting: an earlier try's open orders are canceled
    budget = scale = None
    if side is Side.BUY:
        budget = adapters.broker.get_account().buying_budget
        quotes = Quotes(adapters.broker, adapters.clock, window, settings)
        scale = size_buys(quotes, plan, walks=walks, budget=budget, settings=settings)
        # Buys that shrink to nothing are dropped; adopted ones keep the size a try chose.
        walks = [w for w in walks if w.live is not None or w.target_qty > 0]
    runner.run(walks)
    phase = _phase(
        run,
        adapters,
        plan,
        name,
        walks,
        started=started,
        budget=budget,
        scale=scale,
        stopped=runner.tripped,
    )
    ref = save(adapters.store, run.prefix, f"phase_{name}", phase, phase.message)
    on_phase(phase)
    reconcile(ledger, adapters.broker, run.session, task)
    # Killed or switched off while the walks were ending: the artifact says what happened, and
    # a killed run is not marked rebalanced (a new run may trade).
    runner.halt_if_asked(walks)
    if side is Side.BUY:
        ledger.mark_rebalanced(run.session, run.run_id)
        ledger.release_lease(run.session, run.run_id)
    runner.raise_if_tripped(name)
    _raise_on_rejections(phase)
    ledger.complete_phase(run.session, run.run_id, task.task_id, ref)
    return phase, ref


def _ledgered(run: RunContext, task: TaskKey, adapters: Adapters, ledger: TradeLedger) -> Adapters:
    """Take the session's trading lease, reconcile, and put the ledger in front of the broker."""
    ledger.acquire_lease(run.session, run.run_id, LEASE_TTL)
    listed = reconcile(ledger, adapters.broker, run.session, task).orders
    return replace(
        adapters, broker=LedgeredBroker(adapters.broker, ledger, run.session, task, listed)
    )


def _apply_partial_policy(
    phase: PhaseResult,
    sells_status: PhaseStatus | None,
    settings: ExecutionSettings,
    plan: RebalancePlan,
) -> None:
    # Applied on every try, including one that finds the phase already recorded as done:
    # a retry must not turn a partial run green. A symbol the plan held back makes it partial.
    statuses = {phase.status, sells_status}
    if settings.partial_policy == "fail" and (
        plan.held or statuses & {PhaseStatus.PARTIAL, PhaseStatus.FAILED}
    ):
        held = f"{plan.held_line()}; " if plan.held else ""
        raise PartialRunError(f"run ended partial (partial_policy=fail): {held}{phase.message}")


def check_positions(
    run: RunContext,
    adapters: Adapters,
    plan: RebalancePlan,
    ledger: TradeLedger,
    settings: ExecutionSettings,
    *,
    when: str,
) -> None:
    """Fail closed unless the account holds the plan's snapshot moved by this run's fills.

    The snapshot the plan was built from is compared in full; a plan stored without it (an
    older run) checks the symbols it trades, from their quantities in the plan.
    """
    try:
        snapshot = PortfolioSnapshot.model_validate_json(
            adapters.store.get(artifact_key(run.prefix, SNAPSHOT))
        )
        before = {h.symbol: h.qty for h in snapshot.holdings}
        symbols: set[str] | None = None
    except ArtifactNotFoundError:
        before = {i.symbol: i.current_qty for i in plan.items}
        symbols = set(before)
    expected = expected_positions(before, ledger.entries(run.session), run.run_id)
    differences = position_differences(
        expected, adapters.broker.get_positions(), settings.position_tolerance, symbols
    )
    if differences:
        log.error("positions do not reconcile", run_id=run.run_id, when=when)
        raise PositionMismatchError(
            f"positions {when} differ from the plan's snapshot plus this run's fills "
            f"(tolerance {settings.position_tolerance} shares): {'; '.join(differences)}. "
            "The book moved outside this run (a manual trade, a corporate action): nothing "
            "more placed; trigger a new run to plan against the book as it is."
        )


def _phase(
    run: RunContext,
    adapters: Adapters,
    plan: RebalancePlan,
    name: Literal["sells", "buys"],
    walks: list[Walk],
    *,
    started: datetime,
    budget: Decimal | None = None,
    scale: Decimal | None = None,
    stopped: str | None = None,
) -> PhaseResult:
    items = plan.sells if name == "sells" else plan.buys
    results = tuple(w.result() for w in walks)
    status = walk_phase_status(results, planned=len(items))
    filled = sum((r.filled_value for r in results), Decimal(0))
    parts = [f"{len(results)}/{len(items)} walked, {filled:.2f} filled, status {status}"]
    if stopped is not None:
        parts.append(f"stopped by the circuit breaker: {stopped}")
    unbought = None
    if name == "buys":
        unbought = max(Decimal(0), sum((i.trade_amount for i in items), Decimal(0)) - filled)
        unbought = unbought.quantize(CENT)
        if scale is not None and scale < 1:
            parts.append(f"buys scaled to {scale:.2%} of plan by the budget {budget:.2f}")
        if unbought > 0:
            parts.append(f"{unbought:.2f} unbought (the next session's plan picks it up)")
    problems = [f"{r.symbol} {r.outcome.value}: {r.message}" for r in results if r.message]
    if problems:
        parts.append("; ".join(problems))
    phase = PhaseResult(
        run_id=run.run_id,
        derived_from=(plan.artifact_id,),
        phase=name,
        status=status,
        started_at=started,
        finished_at=adapters.clock.now(),
        budget=budget,
        orders=tuple(live for w in walks if (live := w.live) is not None),
        walks=results,
        scale=scale,
        unbought=unbought,
        message="; ".join(parts),
    )
    log.info(phase.message, run_id=run.run_id, phase=name)
    return phase


def _raise_on_rejections(phase: PhaseResult) -> None:
    rejected = [w for w in phase.walks if w.outcome is WalkOutcome.REJECTED]
    if rejected:
        raise PhaseFailedError(
            f"{phase.phase}: {len(rejected)} rejected: "
            + "; ".join(f"{w.symbol}: {w.message}" for w in rejected)
        )
