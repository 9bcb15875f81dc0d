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
from airflow.sdk.exceptions import AirflowFailException, AirflowTaskTimeout
from pydantic import ValidationError

from alchemiser.adapters.airflow import metrics
from alchemiser.adapters.airflow.connections import (
    ALPACA_CONN_ID,
    AWS_CONN_ID,
    BUCKET_VARIABLE,
    DEFAULT_BUCKET,
    LIVE_ACCOUNT_VARIABLE,
    STATE_DIR_VARIABLE,
    alpaca_settings,
    check_mode,
    check_scheduled_venue,
)
from alchemiser.bootstrap import build_adapters, build_store
from alchemiser.calendars.trading import calendar
from alchemiser.domain.errors import (
    AlchemiserError,
    CircuitBreakerError,
    ConfigError,
    KillSwitchError,
    PartialRunError,
    SessionMismatchError,
    StrategyError,
)
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.report import ArtifactRef, FailureKind, RunReport, TaskFailure
from alchemiser.domain.sessions import session_of
from alchemiser.execution.hours import check_timeline
from alchemiser.execution.positions import PositionMismatchError
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ledger.reconcile import ReconciliationError
from alchemiser.notify.message import RunEvent, event_from_report
from alchemiser.ports import Adapters, ObjectStore
from alchemiser.risk.gate import SignalGateError
from alchemiser.risk.limits import RiskLimitError, RiskLimits
from alchemiser.services.artifacts import load
from alchemiser.services.cleanup import CleanupIncompleteError, cancel_run_orders
from alchemiser.services.context import RunContext, ignored_session_param, resolve_session
from alchemiser.services.execute import SellsOutput, execute_buys, execute_sells
from alchemiser.services.failures import recorded_failures, save_failure
from alchemiser.services.plan import PlanOutput, plan_rebalance
from alchemiser.services.replay import ReplaySettings, replay_session
from alchemiser.services.report import find_refs, tally, write_report
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
    param = (context.get("params") or {}).get("session")
    backfill = _run_type(context) == "backfill"
    if ignored := ignored_session_param(param, backfill):
        log.warning("session param ignored", reason=ignored, run_id=dag_run.run_id)
    session, source = resolve_session(
        param, dag_run.logical_date, dag_run.run_after, _latest_opened_session, backfill=backfill
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
    log.info("venue", venue=alpaca.venue, money="LIVE" if not alpaca.paper else "paper")
    built = build_adapters(alpaca, object_store())
    if context is not None:
        if _run_type(context) == "scheduled":
            check_scheduled_venue(
                alpaca,
                Variable.get(LIVE_ACCOUNT_VARIABLE, default=None),
                lambda: built.broker.get_account().account_number,
            )
        else:
            check_mode(str((context.get("params") or {}).get("mode", "paper")), alpaca)
    return built


def _run_type(context: Mapping[str, Any]) -> str:
    """Return "scheduled", "manual", "backfill" or "asset_triggered" for the task's run."""
    run_type = context["dag_run"].run_type
    return str(getattr(run_type, "value", run_type))


def object_store() -> ObjectStore:
    """Build the object store alone (recording a failure must not need the broker).

    Variable `alchemiser_state_dir` set: the local store in that folder (make run, make
    airflow); else S3 through `aws_default` and Variable `alchemiser_bucket`.
    """
    return build_store(
        Variable.get(BUCKET_VARIABLE, default=DEFAULT_BUCKET),
        Variable.get(STATE_DIR_VARIABLE, default=""),
        lambda: S3Hook(aws_conn_id=AWS_CONN_ID).get_conn(),
    )


def _ref(value: Any, what: str) -> ArtifactRef:
    try:
        return ArtifactRef.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(f"{what}: upstream XCom is not an artifact reference: {exc}") from exc


P = ParamSpec("P")
R = TypeVar("R")

# Errors a retry cannot fix: the task fails at once (no retries burned on a config mistake,
# a breached limit, the kill switch, a broken strategy file or a ledger that disagrees). A
# tripped circuit breaker too: a retry would resume the walks it stopped.
_FINAL = (
    CircuitBreakerError,
    ConfigError,
    RiskLimitError,
    SignalGateError,
    KillSwitchError,
    SessionMismatchError,
    StrategyError,
    ReconciliationError,
    PositionMismatchError,
)


def final_on_bad_input(task: Callable[P, R]) -> Callable[P, R]:
    """Record why a task failed for the report; fail at once on errors no retry can fix.

    The errors in `_FINAL` become AirflowFailException (failed, not up for retry); any other
    domain error or a timeout is recorded and re-raised for Airflow's retries. The report
    lists a recorded failure only if the task ended failed, so a retried success shows none.
    """

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        context = args[0] if args else kwargs.get("context")
        try:
            return task(*args, **kwargs)
        except KillSwitchError as exc:
            _record(context, "killed" if _KILLED else "kill_switch", exc)
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
        except _FINAL as exc:
            _record(context, "error", exc)
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
        except PartialRunError as exc:
            _record(context, "partial", exc)
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
        except AlchemiserError as exc:
            _record(context, "error", exc)
            raise
        except AirflowTaskTimeout as exc:
            _record(context, "timeout", exc)
            raise

    return run


def _record(context: object, kind: FailureKind, error: BaseException) -> None:
    """Save a TaskFailure for the report; never let recording hide the error itself."""
    if not isinstance(context, Mapping):
        return
    message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if kind == "timeout":
        message = f"execution_timeout reached ({message})"
    try:
        ti = context["ti"]
        failure = TaskFailure(
            task_id=ti.task_id, kind=kind, error=message, try_number=ti.try_number
        )
        save_failure(object_store(), run_context(context), failure)
    except AlchemiserError as exc:
        log.error("failure not recorded", error=str(exc), original=message)


@final_on_bad_input
def signals_task(context: Mapping[str, Any]) -> Json:
    """compute_signals."""
    run = run_context(context)
    ports = adapters()
    config = portfolio_path((context.get("params") or {}).get("portfolio"))
    # A past session is replayed (build_plan decides the same way): its symphonies' rebalance
    # state is the replay's, never the live one.
    replay = run.session < session_of(ports.broker.get_clock().timestamp)
    ref = compute_signals(
        run,
        config,
        ports.store,
        ports.market_data,
        on_targets=metrics.strategy_warnings,
        replay=replay,
    )
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
    ports = adapters(context)
    params = context.get("params") or {}
    output = plan_rebalance(
        run,
        _ref(targets, "targets"),
        ports,
        PlanSettings(),
        ReplaySettings(),
        limits=risk_limits(context),
        force=params.get("force") is True,
    )
    trades = output.mode == "trade" and output.trades > 0 and output.rebalanced_by is None
    if trades and params.get("plan_only") is not True:
        stop_at = check_timeline(ports.broker, execution_settings(), _settlement_seconds(context))
        log.info("timeline fits", run_id=run.run_id, trades_end_by=stop_at.isoformat())
    return output.model_dump(mode="json")


SETTLEMENT_TASK = "await_settlement"
DEFAULT_SETTLEMENT_SECONDS = 120.0


def _settlement_seconds(context: Mapping[str, Any]) -> float:
    """Return the settlement sensor's timeout as the DAG sets it (the timeline counts it)."""
    dag = context.get("dag")
    if dag is None or not dag.has_task(SETTLEMENT_TASK):
        return DEFAULT_SETTLEMENT_SECONDS
    return float(dag.get_task(SETTLEMENT_TASK).timeout)


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


_KILLED: list[str] = []
"""Set by `phase_killed` (on SIGTERM): Airflow's handler returns after on_kill and the walk
loop would go on until the supervisor's SIGKILL; the phase's halt stops it at its next tick."""


def halt() -> str | None:
    """Return why the running phase must stop: this task was killed, or the kill switch."""
    return _KILLED[-1] if _KILLED else kill_switch()


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


def phase_killed(context: Mapping[str, Any], *, timed_out: bool) -> None:
    """on_kill of an execution task: cancel its open orders unless a retry will adopt them."""
    ti = context["ti"]
    run = run_context(context)
    retry_follows = timed_out and ti.try_number <= ti.max_tries
    kind: FailureKind = "timeout" if timed_out else "killed"
    what = "execution_timeout" if timed_out else "killed (SIGTERM)"
    if not timed_out:
        _KILLED.append(f"{ti.task_id} {what}")
    _record(context, kind, RuntimeError(f"{ti.task_id} {what} on try {ti.try_number}"))
    if retry_follows:
        log.warning(
            "task timed out; its open orders stay for the retry to adopt",
            run_id=run.run_id,
            task_id=ti.task_id,
            try_number=ti.try_number,
        )
        return
    ports = adapters()
    plan = _plan_of(run, ports)
    if plan is None:
        return
    ledger = TradeLedger(ports.store, plan.account_id, ports.clock)
    result = cancel_run_orders(
        run, ledger, ports.broker, ports.clock, f"{ti.task_id} {what}", task_id=ti.task_id
    )
    log.warning("on_kill cleanup", run_id=run.run_id, result=result.describe())


def _plan_of(run: RunContext, ports: Adapters) -> RebalancePlan | None:
    refs = find_refs(run, ports, rebalanced_by=None)
    return load(ports.store, refs.plan, RebalancePlan) if refs.plan else None


def report_task(context: Mapping[str, Any]) -> Json:
    """report, the run's teardown: cancel what is still open, then report every outcome.

    It runs after the last try of every other task, whatever their states. Orders of this run
    still working (a failed, timed-out or killed phase) are canceled first and the ledger
    records it; then the report says what was planned, sent, filled and canceled, and what the
    account holds now. A cleanup that cannot finish fails this task (after the report) so
    that Airflow retries it and the operator sees it.
    """
    run = run_context(context)
    ti = context["ti"]
    ports = adapters()
    planned = _plan_output(ti.xcom_pull(task_ids="build_plan"))
    refs = find_refs(run, ports, planned.rebalanced_by if planned else None)
    failures = _failures(context, run, ports.store)
    orders, cleanup, unclean = None, "", None
    if refs.plan is not None and (planned is None or planned.mode == "trade"):
        plan = load(ports.store, refs.plan, RebalancePlan)
        ledger = TradeLedger(ports.store, plan.account_id, ports.clock)
        reason = (
            "run ended after " + ", ".join(f"{f.task_id} {f.kind}" for f in failures)
            if failures
            else "run finished"
        )
        try:
            result = cancel_run_orders(run, ledger, ports.broker, ports.clock, reason)
            cleanup = result.describe()
            unclean = None if result.clean else f"orders still open: {cleanup}"
        except AlchemiserError as exc:
            cleanup = f"FAILED: {type(exc).__name__}: {exc}"
            unclean = cleanup
        orders = tally(tuple(e for e in ledger.entries(run.session) if e.task.run_id == run.run_id))
    ref = write_report(
        run,
        refs,
        ports,
        live=_live(),
        failures=failures,
        orders=orders,
        cleanup=cleanup,
    )
    if unclean is not None:
        raise CleanupIncompleteError(f"report written ({ref.uri}) but {unclean}")
    return ref.model_dump(mode="json")


def _plan_output(value: object) -> PlanOutput | None:
    if value is None:
        return None
    try:
        return PlanOutput.model_validate(value)
    except ValidationError:
        return None


def _live() -> bool:
    return not alpaca_settings(BaseHook.get_connection(ALPACA_CONN_ID)).paper


FAILED_STATES = {"failed", "upstream_failed"}


def _failures(
    context: Mapping[str, Any], run: RunContext, store: ObjectStore
) -> tuple[TaskFailure, ...]:
    """Return why each task of the run that ended failed did so (recorded, or "lost")."""
    states = _task_states(context, run)
    recorded = {f.task_id: f for f in recorded_failures(store, run)}
    failures = []
    for task_id, state in sorted(states.items()):
        if state != "failed":
            continue
        failures.append(
            recorded.get(task_id)
            or TaskFailure(
                task_id=task_id,
                kind="lost",
                error="ended failed without recording why (worker killed or heartbeat lost)",
            )
        )
    return tuple(failures)


def _task_states(context: Mapping[str, Any], run: RunContext) -> dict[str, str]:
    """Return {task_id: state} of this run's task instances, from the execution API."""
    found = context["ti"].get_task_states(dag_id=run.dag_id, run_ids=[run.run_id])
    by_run = found.get(run.run_id, found) if isinstance(found, dict) else {}
    return {str(k): str(v) for k, v in by_run.items() if v is not None}


def run_event(context: Mapping[str, Any], kind: Literal["success", "failure"]) -> RunEvent:
    """Describe a run from the report task's callbacks: its report, or why there is none.

    On the report's success the event is built from the report (whatever the outcome); on its
    failure (no report, or a cleanup that could not finish) from the error.
    """
    dag_run = context["dag_run"]
    ti = context["ti"]
    pulled = ti.xcom_pull(task_ids=ti.task_id) if kind == "success" else None
    if pulled:
        ref = ArtifactRef.model_validate(pulled)
        report = load(object_store(), ref, RunReport)
        return event_from_report(dag_run.dag_id, report, ref)
    try:
        session: str | None = run_context(context).session.isoformat()
    except ConfigError:
        session = None  # a bad session param is itself the failure being reported
    error = context.get("exception")
    return RunEvent(
        kind="failure",
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        session=session,
        task_id=ti.task_id,
        error=f"{type(error).__name__}: {error}" if error else None,
    )
