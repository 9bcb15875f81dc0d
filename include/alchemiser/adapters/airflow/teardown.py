"""The run's teardown and failure recording: what a task leaves behind when it stops.

`final_on_bad_input` records why a task failed (for the report) and fails at once on errors no
retry can fix; `phase_killed` is an execution task's on_kill; `report_task` is the run's
teardown (cancel what is still open, report every outcome); `run_event` describes the run for
the one notification.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Literal, ParamSpec, TypeVar

import structlog
from airflow.sdk.exceptions import AirflowFailException, AirflowTaskTimeout
from pydantic import ValidationError

from alchemiser.adapters.airflow.variables import kill_switch
from alchemiser.adapters.airflow.wiring import (
    Json,
    adapters,
    is_live,
    object_store,
    run_context,
)
from alchemiser.domain.errors import (
    AlchemiserError,
    CircuitBreakerError,
    ConfigError,
    KillSwitchError,
    PartialRunError,
    SessionMismatchError,
    StrategyError,
)
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.report import ArtifactRef, FailureKind, RunReport, TaskFailure
from alchemiser.execution.positions import PositionMismatchError
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ledger.reconcile import ReconciliationError
from alchemiser.notify.message import RunEvent, event_from_report
from alchemiser.ports import Adapters, ObjectStore
from alchemiser.risk.gate import SignalGateError
from alchemiser.risk.limits import RiskLimitError
from alchemiser.services.artifacts import load
from alchemiser.services.cleanup import CleanupIncompleteError, cancel_run_orders
from alchemiser.services.context import RunContext
from alchemiser.services.failures import recorded_failures, save_failure
from alchemiser.services.plan import PlanOutput
from alchemiser.services.report import find_refs, tally, write_report

log = structlog.get_logger(__name__)

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


_KILLED: list[str] = []
"""Set by `phase_killed` (on SIGTERM): Airflow's handler returns after on_kill and the walk
loop would go on until the supervisor's SIGKILL; the phase's halt stops it at its next tick."""


def halt() -> str | None:
    """Return why the running phase must stop: this task was killed, or the kill switch."""
    return _KILLED[-1] if _KILLED else kill_switch()


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
        live=is_live(),
        failures=failures,
        orders=orders,
        cleanup=cleanup,
    )
    if unclean is not None:
        raise CleanupIncompleteError(
            f"report written ({ref.uri}) but {unclean}", report=ref.link or ref.uri
        )
    return ref.model_dump(mode="json")


def _plan_output(value: object) -> PlanOutput | None:
    if value is None:
        return None
    try:
        return PlanOutput.model_validate(value)
    except ValidationError:
        return None


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
        report=error.report if isinstance(error, CleanupIncompleteError) else None,
    )
