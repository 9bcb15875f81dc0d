"""Task entry points: resolve the run, take its adapters, call one use case.

The DAG file and the plugin's operators import this module inside task bodies (so parsing stays
light); everything here returns and accepts plain JSON, validated into DTOs on the way in and
out of each task. The adapters come from `wiring` (connections, the live opt-in), the settings
from `variables`, and `teardown` records failures and ends the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import ValidationError

from alchemiser.adapters.airflow import metrics
from alchemiser.adapters.airflow.teardown import final_on_bad_input, halt
from alchemiser.adapters.airflow.variables import (
    execution_settings,
    portfolio_path,
    risk_limits,
    settlement_seconds,
)
from alchemiser.adapters.airflow.wiring import Json, adapters, run_context
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.sessions import session_of
from alchemiser.execution.hours import check_timeline
from alchemiser.services.artifacts import load
from alchemiser.services.execute import SellsOutput, execute_buys, execute_sells
from alchemiser.services.plan import PlanOutput, plan_rebalance
from alchemiser.services.replay import ReplaySettings, replay_session
from alchemiser.services.signals import compute_signals

log = structlog.get_logger(__name__)


def _ref(value: Any, what: str) -> ArtifactRef:
    try:
        return ArtifactRef.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(f"{what}: upstream XCom is not an artifact reference: {exc}") from exc


@final_on_bad_input
def signals_task(context: Mapping[str, Any]) -> Json:
    """compute_signals."""
    run = run_context(context)
    ports = adapters()
    config = portfolio_path((context.get("params") or {}).get("portfolio"))
    # A past session is replayed (build_plan decides the same way): its symphonies' rebalance
    # state is the replay's, never the live one.
    replay = run.replays(session_of(ports.broker.get_clock().timestamp))
    ref = compute_signals(
        run,
        config,
        ports.store,
        ports.market_data,
        on_targets=metrics.strategy_warnings,
        replay=replay,
    )
    return ref.model_dump(mode="json")


@final_on_bad_input
def plan_task(context: Mapping[str, Any], targets: Json) -> Json:
    """build_plan."""
    run = run_context(context)
    ports = adapters(context)
    params = context.get("params") or {}
    # One reading of the broker's clock: the plan's session and the timeline are judged on it.
    venue = ports.broker.get_clock()
    output = plan_rebalance(
        run,
        _ref(targets, "targets"),
        ports,
        PlanSettings(),
        ReplaySettings(),
        limits=risk_limits(context),
        force=params.get("force") is True,
        venue=venue,
    )
    trades = output.mode == "trade" and output.trades > 0 and output.rebalanced_by is None
    if trades and params.get("plan_only") is not True:
        settings, settle = execution_settings(), settlement_seconds(context)
        stop_at = check_timeline(ports.broker, settings, settle, venue)
        log.info("timeline fits", run_id=run.run_id, trades_end_by=stop_at.isoformat())
    return output.model_dump(mode="json")


def route_task(context: Mapping[str, Any], plan: Json) -> list[str]:
    """Choose what follows the plan: live execution, a replay, or nothing."""
    planned = PlanOutput.model_validate(plan)
    run_id = context["dag_run"].run_id
    if planned.mode == "replay":
        log.info(
            "route: replay", reason="a past session: fills simulated at the close", run_id=run_id
        )
        return ["replay_session"]
    if why := _nothing_to_place(planned, (context.get("params") or {}).get("plan_only") is True):
        log.info("route: nothing placed", reason=why, run_id=run_id)
        return []
    log.info("route: trade", trades=planned.trades, run_id=run_id)
    return ["execute_sells"]


def _nothing_to_place(planned: PlanOutput, plan_only: bool) -> str:
    """Return why a run for today's session places no order, or "" when it trades."""
    if plan_only:
        return "plan_only=true: the plan is reported, nothing is placed"
    if planned.rebalanced_by is not None:
        return (
            f"session already rebalanced by run {planned.rebalanced_by} "
            "(trigger with force=true to trade it again)"
        )
    if planned.trades == 0:
        return "the book is within its rebalance band of the targets: nothing to trade"
    return ""


@final_on_bad_input
def replay_task(context: Mapping[str, Any], plan: Json) -> Json:
    """replay_session: simulated fills at the close for a past session."""
    run = run_context(context)
    ref = replay_session(run, PlanOutput.model_validate(plan).plan, adapters(), ReplaySettings())
    return ref.model_dump(mode="json")


@final_on_bad_input
def sells_task(context: Mapping[str, Any], plan: Json) -> Json:
    """execute_sells."""
    run = run_context(context)
    ti = context["ti"]
    task = run.task(ti.task_id, ti.map_index)
    ports = adapters(context)
    output = execute_sells(
        run,
        task,
        PlanOutput.model_validate(plan).plan,
        ports,
        execution_settings(),
        halt=halt,
        on_phase=metrics.phase_metrics,
    )
    return output.model_dump(mode="json")


@final_on_bad_input
def buys_task(context: Mapping[str, Any], plan: Json, sells: Json) -> Json:
    """execute_buys (after await_settlement); a partial run fails here, after its artifact.

    The report is the run's teardown: it is written whatever this task does.
    """
    run = run_context(context)
    sold = SellsOutput.model_validate(sells)
    ti = context["ti"]
    task = run.task(ti.task_id, ti.map_index)
    planned = PlanOutput.model_validate(plan)
    ports = adapters(context)
    sells_phase = load(ports.store, sold.phase, PhaseResult)
    metrics.settlement_wait(ports.clock.now() - sold.finished_at)
    ref = execute_buys(
        run,
        task,
        planned.plan,
        ports,
        execution_settings(),
        sells_status=sells_phase.status,
        halt=halt,
        on_phase=metrics.phase_metrics,
    )
    return ref.model_dump(mode="json")
