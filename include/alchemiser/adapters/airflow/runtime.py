"""Task entry points: resolve the run, build adapters from connections, call one use case.

The DAG file imports this module inside task bodies (so parsing stays light); everything here
returns and accepts plain JSON, validated into DTOs on the way in and out of each task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import structlog
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import BaseHook, Variable
from airflow.sdk.exceptions import AirflowFailException
from pydantic import ValidationError

from alchemiser.adapters.airflow import metrics
from alchemiser.adapters.airflow.connections import (
    ALPACA_CONN_ID,
    AWS_CONN_ID,
    BUCKET_VARIABLE,
    DEFAULT_BUCKET,
    STATE_DIR_VARIABLE,
    alpaca_settings,
    check_mode,
)
from alchemiser.bootstrap import build_adapters, build_store
from alchemiser.calendars.trading import calendar
from alchemiser.domain.errors import (
    ArtifactNotFoundError,
    ConfigError,
    KillSwitchError,
    PhaseFailedError,
    SessionMismatchError,
    StrategyError,
)
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.report import ArtifactRef
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ledger.reconcile import ReconciliationError
from alchemiser.notify.message import RunEvent
from alchemiser.ports import Adapters
from alchemiser.risk.gate import SignalGateError
from alchemiser.risk.limits import RiskLimitError, RiskLimits
from alchemiser.services.artifacts import artifact_key, load
from alchemiser.services.context import RunContext, resolve_session
from alchemiser.services.execute import SellsOutput, execute_buys, execute_sells
from alchemiser.services.plan import PlanOutput, plan_rebalance
from alchemiser.services.replay import ReplaySettings, replay_session
from alchemiser.services.report import ReportRefs, write_report
from alchemiser.services.signals import compute_signals
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO

log = structlog.get_logger(__name__)

Json = dict[str, Any]
RISK_VARIABLE = "alchemiser_risk_limits"
EXECUTION_VARIABLE = "alchemiser_execution"
KILL_SWITCH_VARIABLE = "alchemiser_kill_switch"
_ON = {"on", "true", "1", "yes"}


def run_context(context: Mapping[str, Any]) -> RunContext:
    """Resolve the run's trading session the same way in every task (see resolve_session)."""
    dag_run = context["dag_run"]
    session, source = resolve_session(
        (context.get("params") or {}).get("session"),
        dag_run.logical_date,
        dag_run.run_after,
        _latest_opened_session,
    )
    return RunContext(
        dag_id=dag_run.dag_id, run_id=dag_run.run_id, session=session, session_source=source
    )


def _latest_opened_session(moment: datetime) -> date:
    return calendar().latest_opened(moment).day


def adapters(context: Mapping[str, Any] | None = None) -> Adapters:
    """Build the real adapters from `alpaca_default`, `alchemiser_bucket` and the store's
    settings: Variable `alchemiser_state_dir` (a local folder) if set, else `aws_default`.

    With a task context, the run's `mode` param must agree with the connection first.
    """
    alpaca = alpaca_settings(BaseHook.get_connection(ALPACA_CONN_ID))
    log.info("venue", venue=alpaca.venue, live=not alpaca.paper)
    if context is not None:
        check_mode(str((context.get("params") or {}).get("mode", "paper")), alpaca)
    store = build_store(
        Variable.get(BUCKET_VARIABLE, default=DEFAULT_BUCKET),
        Variable.get(STATE_DIR_VARIABLE, default=""),
        lambda: S3Hook(aws_conn_id=AWS_CONN_ID).get_conn(),
    )
    return build_adapters(alpaca, store)


def _ref(value: Any, what: str) -> ArtifactRef:
    try:
        return ArtifactRef.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(f"{what}: upstream XCom is not an artifact reference: {exc}") from exc


P = ParamSpec("P")
R = TypeVar("R")

# Errors a retry cannot fix: the task fails at once (no retries burned on a config mistake,
# a breached limit, the kill switch, a broken strategy file or a ledger that disagrees).
_FINAL = (
    ConfigError,
    RiskLimitError,
    SignalGateError,
    KillSwitchError,
    SessionMismatchError,
    StrategyError,
    ReconciliationError,
)


def final_on_bad_input(task: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors no retry can fix into AirflowFailException (failed, not up for retry)."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return task(*args, **kwargs)
        except _FINAL as exc:
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return run


@final_on_bad_input
def signals_task(context: Mapping[str, Any]) -> Json:
    """compute_signals."""
    run = run_context(context)
    ports = adapters()
    config = portfolio_path((context.get("params") or {}).get("portfolio"))
    ref = compute_signals(run, config, ports.store, ports.market_data)
    return ref.model_dump(mode="json")


def portfolio_path(name: object) -> Path:
    """Return the portfolio config the `portfolio` param names, inside include/strategies/."""
    if not name:
        return DEFAULT_PORTFOLIO
    folder = DEFAULT_PORTFOLIO.parent.resolve()
    path = (folder / str(name)).resolve()
    if not path.is_relative_to(folder) or path.suffix not in {".yaml", ".yml"}:
        raise ConfigError(f"param portfolio={name!r}: must be a .yaml file under {folder}")
    return path


@final_on_bad_input
def plan_task(context: Mapping[str, Any], targets: Json) -> Json:
    """build_plan."""
    run = run_context(context)
    output = plan_rebalance(
        run,
        _ref(targets, "targets"),
        adapters(context),
        PlanSettings(),
        ReplaySettings(),
        limits=risk_limits(context),
        force=(context.get("params") or {}).get("force") is True,
    )
    return output.model_dump(mode="json")


def risk_limits(context: Mapping[str, Any]) -> RiskLimits:
    """Return the limits from Variable `alchemiser_risk_limits` (JSON), tightened by the params."""
    raw = Variable.get(RISK_VARIABLE, default="{}")
    try:
        limits = RiskLimits.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(f"Variable {RISK_VARIABLE} is not valid risk limits: {exc}") from exc
    cap = (context.get("params") or {}).get("max_order_notional")
    if cap is not None:
        tighter = Decimal(str(cap))
        if limits.max_order_notional is not None:
            tighter = min(tighter, limits.max_order_notional)
        limits = limits.model_copy(update={"max_order_notional": tighter})
    return limits


def kill_switch() -> str | None:
    """Return why to stop when Variable `alchemiser_kill_switch` is on (read on every tick)."""
    value = Variable.get(KILL_SWITCH_VARIABLE, default="off").strip().lower()
    return f"kill switch on (Variable {KILL_SWITCH_VARIABLE}={value})" if value in _ON else None


def execution_settings() -> ExecutionSettings:
    """Return ExecutionSettings overridden by Variable `alchemiser_execution` (JSON), if set."""
    raw = Variable.get(EXECUTION_VARIABLE, default="{}")
    try:
        return ExecutionSettings.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(f"Variable {EXECUTION_VARIABLE} is not valid: {exc}") from exc


def route_task(context: Mapping[str, Any], plan: Json) -> list[str]:
    """Choose what follows the plan: live execution, a replay, or nothing."""
    planned = PlanOutput.model_validate(plan)
    if planned.mode == "replay":
        return ["replay_session"]
    if (
        (context.get("params") or {}).get("plan_only") is True
        or planned.trades == 0
        or planned.rebalanced_by is not None
    ):
        return []
    return ["execute_sells"]


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
        halt=kill_switch,
    )
    metrics.phase_metrics(load(ports.store, output.phase, PhaseResult))
    return output.model_dump(mode="json")


@final_on_bad_input
def buys_task(context: Mapping[str, Any], plan: Json, sells: Json) -> Json:
    """execute_buys (after await_settlement); a partial run fails here with its report written.

    The report task does not run after a failure, so under the default partial policy this
    task writes the run report itself before it fails.
    """
    run = run_context(context)
    sold = SellsOutput.model_validate(sells)
    ti = context["ti"]
    task = run.task(ti.task_id, ti.map_index)
    planned = PlanOutput.model_validate(plan)
    ports = adapters(context)
    sells_phase = load(ports.store, sold.phase, PhaseResult)
    metrics.settlement_wait(ports.clock.now() - sold.finished_at)
    try:
        ref = execute_buys(
            run,
            task,
            planned.plan,
            ports,
            execution_settings(),
            sells_status=sells_phase.status,
            halt=kill_switch,
        )
    except PhaseFailedError:
        written = _phase_ref(ports, run)
        if written is not None:
            metrics.phase_metrics(load(ports.store, written, PhaseResult))
        refs = ReportRefs(
            targets=_ref(ti.xcom_pull(task_ids="compute_signals"), "targets"),
            plan=planned.plan,
            snapshot=planned.snapshot,
            sells=sold.phase,
            buys=written,
        )
        write_report(run, refs, ports)
        raise
    metrics.phase_metrics(load(ports.store, ref, PhaseResult))
    return ref.model_dump(mode="json")


def _phase_ref(ports: Adapters, run: RunContext) -> ArtifactRef | None:
    """Return the buys' phase artifact if execute_buys got as far as writing it."""
    key = artifact_key(run.prefix, "phase_buys")
    try:
        phase = PhaseResult.model_validate_json(ports.store.get(key))
    except ArtifactNotFoundError:
        return None
    return ArtifactRef(
        artifact_id=phase.artifact_id, bucket=ports.store.bucket, key=key, summary=phase.message
    )


@final_on_bad_input
def report_task(
    context: Mapping[str, Any],
    *,
    targets: Json,
    plan: Json,
    sells: Json | None,
    buys: Json | None,
    replay: Json | None,
) -> Json:
    """report."""
    run = run_context(context)
    planned = PlanOutput.model_validate(plan)
    refs = ReportRefs(
        targets=_ref(targets, "targets"),
        plan=planned.plan,
        snapshot=planned.snapshot,
        rebalanced_by=planned.rebalanced_by,
        sells=SellsOutput.model_validate(sells).phase if sells else None,
        buys=_ref(buys, "buys") if buys else None,
        replay=_ref(replay, "replay") if replay else None,
    )
    return write_report(run, refs, adapters()).model_dump(mode="json")


def run_event(context: Mapping[str, Any], kind: Literal["success", "failure"]) -> RunEvent:
    """Describe a finished run or a failed task from an Airflow callback context."""
    dag_run = context["dag_run"]
    ti = context["ti"]
    report = ti.xcom_pull(task_ids="report") if kind == "success" else None
    ref = ArtifactRef.model_validate(report) if report else None
    try:
        session: str | None = run_context(context).session.isoformat()
    except ConfigError:
        session = None  # a bad session param is itself the failure being reported
    error = context.get("exception")
    return RunEvent(
        kind=kind,
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        session=session,
        outcome=ref.summary.removeprefix("outcome ") if ref else None,
        task_id=ti.task_id if kind == "failure" else None,
        error=f"{type(error).__name__}: {error}" if error else None,
        report=ref.uri if ref else None,
    )
