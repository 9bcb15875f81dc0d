"""
### daily_rebalance

Once per trading day: evaluate the strategies, plan the rebalance, sell, wait for the sale
proceeds, buy with the buying power actually there, and report.

```
compute_signals -> build_plan -> has_trades -> execute_sells -> await_settlement
                                                             -> execute_buys -> report
```

Every task calls one use case in `alchemiser.adapters.airflow.runtime`; artifacts (targets,
plan, portfolio snapshots, phase results, the report) are written to S3 under
`runs/<session>/<run_id>/`, and XCom carries only their references. Orders use client order
ids derived from the task-instance key, so a retry or a clear adopts what an earlier try placed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

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
    },
    params={
        "session": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Trading session",
            description="YYYY-MM-DD; empty means the run's logical date (or its trigger time)",
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
        """Snapshot the account and plan sells and buys."""
        from alchemiser.adapters.airflow import runtime

        return runtime.plan_task(get_current_context(), targets)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def has_trades(plan: dict[str, Any]) -> bool:
        """Skip execution when the plan holds no trades (the report still runs)."""
        return int(plan["trades"]) > 0

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

    @task(trigger_rule="none_failed_min_one_success")
    def report(
        targets: dict[str, Any],
        plan: dict[str, Any],
        sells: dict[str, Any] | None,
        buys: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Write the run report."""
        from alchemiser.adapters.airflow import runtime

        return runtime.report_task(get_current_context(), targets, plan, sells, buys)

    targets = compute_signals()
    plan = build_plan(targets)
    sells = execute_sells(plan)
    settled = SettlementSensor(task_id="await_settlement", sells=sells)
    buys = execute_buys(plan, sells)
    has_trades(plan) >> sells
    sells >> settled >> buys
    report(targets, plan, sells, buys)
