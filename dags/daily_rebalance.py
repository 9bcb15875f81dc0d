"""
### daily_rebalance

Once per trading session: evaluate the strategies, plan the rebalance, sell, wait for the sale
proceeds, buy with the buying power actually there, and report. A run for a past session (a
backfill, a catch-up, a manual run with an earlier `session`) is a **replay**: it plans against a
simulated book and fills at the close, and never contacts an order endpoint.

```
compute_signals -> build_plan -> route -> execute_sells -> await_settlement -> execute_buys
                                      \\-> replay_session                                  -> report
```

Every task calls one use case in `alchemiser.adapters.airflow.runtime`; artifacts (targets,
plan, portfolio snapshots, phase results, replays, the report) are written to S3 under
`runs/<session>/<run_id>/`, and XCom carries only their references. Orders use client order
ids derived from the task-instance key, so a retry or a clear adopts what an earlier try placed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from alchemiser_airflow.links import ReportLink
from alchemiser_airflow.notifier import RunNotifier
from alchemiser_airflow.settlement import SettlementSensor
from alchemiser_airflow.timetable import TradingSessionTimetable

# Task bodies import the runtime module themselves: it pulls in alpaca-py, pandas and boto3,
# which the dag-processor must not load every time it parses this file.

with DAG(
    dag_id="daily_rebalance",
    description="Rebalance the multi-strategy portfolio on Alpaca once per trading day",
    doc_md=__doc__,
    # Once per NYSE session, 15 minutes before its close (early closes and DST included).
    schedule=TradingSessionTimetable(minutes_before_close=15),
    start_date=pendulum.datetime(2026, 1, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=20),
        "execution_timeout": timedelta(minutes=10),
        # After the last retry: the session, the failing task, its error, any report.
        "on_failure_callback": RunNotifier("failure"),
    },
    params={
        "session": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Trading session",
            description="YYYY-MM-DD. Empty: the run's logical date, or for a manual run the "
            "latest session that has opened. A past session is replayed, never traded.",
        ),
        "mode": Param(
            "paper",
            type="string",
            enum=["paper-exchange", "paper", "live"],
            title="Venue",
            description="Must match the alpaca_default connection: paper-exchange (a local "
            "Alpaca-compatible server in its host), paper (any paper account), live (needs "
            "the connection's extra paper=false as well).",
        ),
        "plan_only": Param(
            False,
            type="boolean",
            title="Plan only",
            description="Compute signals and the plan, report them, place nothing.",
        ),
        "portfolio": Param(
            "portfolio.yaml",
            type="string",
            pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.ya?ml$",
            title="Portfolio config",
            description="A portfolio config under include/strategies/ (strategies and their "
            "allocations); another file runs a subset or a different mix.",
        ),
        "force": Param(
            False,
            type="boolean",
            title="Force",
            description="Trade even though the targets moved more of the book than the signal "
            "gate allows since the last traded session.",
        ),
        "max_order_notional": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Max order notional ($)",
            description="Reject the whole plan if any single order is larger (tightens the "
            "alchemiser_risk_limits Variable, never loosens it).",
        ),
    },
    tags=["alchemiser", "trading"],
) as dag:

    @task
    def compute_signals() -> dict[str, Any]:
        """Evaluate the strategies into target weights."""
        from alchemiser.adapters.airflow import runtime

        return runtime.signals_task(get_current_context())

    @task
    def build_plan(targets: dict[str, Any]) -> dict[str, Any]:
        """Snapshot the account (or the replay book) and plan sells and buys."""
        from alchemiser.adapters.airflow import runtime

        return runtime.plan_task(get_current_context(), targets)

    @task.branch
    def route(plan: dict[str, Any]) -> list[str]:
        """Trade, replay, or stop here (no trades, or plan_only); the report runs regardless."""
        from alchemiser.adapters.airflow import runtime

        return runtime.route_task(get_current_context(), plan)

    @task
    def execute_sells(plan: dict[str, Any]) -> dict[str, Any]:
        """Place the plan's sells and wait for their fills."""
        from alchemiser.adapters.airflow import runtime

        return runtime.sells_task(get_current_context(), plan)

    @task
    def execute_buys(plan: dict[str, Any], sells: dict[str, Any]) -> dict[str, Any]:
        """Place the plan's buys, sized from the buying power now available."""
        from alchemiser.adapters.airflow import runtime

        return runtime.buys_task(get_current_context(), plan, sells)

    @task
    def replay_session(plan: dict[str, Any]) -> dict[str, Any]:
        """Fill a past session's plan at the close against the simulated book."""
        from alchemiser.adapters.airflow import runtime

        return runtime.replay_task(get_current_context(), plan)

    @task(trigger_rule="none_failed_min_one_success", on_success_callback=RunNotifier("success"))
    def report(
        targets: dict[str, Any],
        plan: dict[str, Any],
        sells: dict[str, Any] | None,
        buys: dict[str, Any] | None,
        replay: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Write the run report."""
        from alchemiser.adapters.airflow import runtime

        return runtime.report_task(
            get_current_context(), targets=targets, plan=plan, sells=sells, buys=buys, replay=replay
        )

    targets = compute_signals()
    plan = build_plan(targets)
    branch = route(plan)
    sells = execute_sells(plan)
    # Cash accounts: after 5 minutes, buy with what has settled; the rest waits for next session.
    settled = SettlementSensor(task_id="await_settlement", sells=sells, settlement_wait=300)
    buys = execute_buys(plan, sells)
    replayed = replay_session(plan)
    branch >> [sells, replayed]
    sells >> settled >> buys
    reported = report(targets, plan, sells, buys, replayed)
    # A "Run report" button on the task in the UI, opening the HTML report.
    reported.operator.operator_extra_links = (ReportLink(),)
