"""
### daily_rebalance

Once per trading session: evaluate the strategies, plan the rebalance, sell, wait for the sale
proceeds, buy with the buying power actually there, and report. A run for a past session (a
backfill, a catch-up, a manual run with an earlier `session`) is a **replay**: it plans against a
simulated book and fills at the close, and never contacts an order endpoint.

```
compute_signals --> build_plan --> route --+--> execute_sells --> await_settlement --> execute_buys
                                           |
                                           +--> replay_session
                                                          (all of them) ..> report (teardown)
```

Every task calls one use case in `alchemiser.adapters.airflow.runtime`; artifacts (targets,
plan, portfolio snapshots, phase results, replays, the report) are written to S3 under
`runs/<session>/<run_id>/`, and XCom carries only their references. Orders use client order
ids derived from the task-instance key, so a retry or a clear adopts what an earlier try placed.

`report` is the run's **teardown**: it runs once every other task is done, whatever their
states. It cancels any order of this run still working at the broker (a phase that failed,
timed out or was killed after its last try), then writes the report for every outcome and
sends the run's one notification. Between tries of a phase its orders stay: the retry adopts them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param

from alchemiser_airflow.links import ReportLink
from alchemiser_airflow.notifier import RunNotifier
from alchemiser_airflow.phase import PhaseOperator
from alchemiser_airflow.settlement import SettlementSensor
from alchemiser_airflow.tasks import RouteTask, RuntimeTask
from alchemiser_airflow.timetable import TradingSessionTimetable

# Every task calls one runtime entry point, imported when the task runs: the runtime pulls in
# alpaca-py, pandas and boto3, which the dag-processor must not load every time it parses this
# file (and TaskFlow's @task would load the Python operator's machinery: see plugins' tasks).

# Each Param's schema names JSON Schema draft 7, where the keywords used here (type, pattern,
# enum, a numeric exclusiveMinimum, title) mean what they mean in the default draft 2020-12
# (tests/dags checks it value by value). Each parse validates every Param, and jsonschema first
# checks the schema against its draft's metaschema: about 0.7 million instructions a Param for
# draft 7, 2 million for 2020-12 and its $dynamicRef vocabularies. The 7.8 million saved on six
# Params are more than a trivial DAG's whole parse.
# (Any: a **dict[str, str] could fill Param's `source` too, which mypy refuses.)
DRAFT_7: dict[str, Any] = {"$schema": "http://json-schema.org/draft-07/schema#"}

with DAG(
    dag_id="daily_rebalance",
    description="Rebalance the multi-strategy portfolio on Alpaca once per trading day",
    doc_md=__doc__,
    # Once per NYSE session, 30 minutes before its close (early closes and DST included): the
    # worst case (sells 6 min, settlement 2, buys 6, task starts 1) must end before the
    # 5-minute close buffer, and build_plan refuses a run that cannot.
    schedule=TradingSessionTimetable(minutes_before_close=30),
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
            # A plain pattern, not format=date: the browser's date picker mangles typed dates.
            pattern=r"^(\d{4}-\d{2}-\d{2})?$",
            title="Trading session",
            **DRAFT_7,
            description="A date typed as YYYY-MM-DD, e.g. 2026-11-20. Empty: the run's logical "
            "date, or for a manual run the latest session that has opened. A past session is "
            "replayed, never traded. Ignored in a backfill: each backfill run replays its own "
            "date.",
        ),
        "mode": Param(
            "paper",
            type="string",
            enum=["paper-exchange", "paper", "live"],
            title="Venue",
            **DRAFT_7,
            description="A local paper exchange (make run, make airflow) needs "
            "paper-exchange. Manual runs: must match the alpaca_default connection: "
            "paper-exchange (a local Alpaca-compatible server in the connection's host), "
            "paper (an Alpaca paper account), live (needs "
            "the connection's extra paper=false as well). Scheduled runs ignore it: they trade "
            "the connection's venue, and a live one only when Variable alchemiser_live_account "
            "names its account number.",
        ),
        "plan_only": Param(
            False,
            type="boolean",
            title="Plan only",
            **DRAFT_7,
            description="Compute signals and the plan, report them, place nothing.",
        ),
        "portfolio": Param(
            "portfolio.yaml",
            type="string",
            pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.ya?ml$",
            title="Portfolio config",
            **DRAFT_7,
            description="A portfolio config under include/strategies/ (strategies and their "
            "allocations); another file runs a subset or a different mix.",
        ),
        "force": Param(
            False,
            type="boolean",
            title="Force",
            **DRAFT_7,
            description="Trade even though the targets moved more of the book than the signal "
            "gate allows since the last traded session.",
        ),
        "max_order_notional": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Max order notional ($)",
            **DRAFT_7,
            description="Reject the whole plan if any single order is larger (tightens the "
            "alchemiser_risk_limits Variable, never loosens it).",
        ),
    },
    tags=["alchemiser", "trading"],
) as dag:
    targets = RuntimeTask(
        task_id="compute_signals",
        entry="signals_task",
        doc_md="Evaluate the strategies into target weights.",
    )
    plan = RuntimeTask(
        task_id="build_plan",
        entry="plan_task",
        inputs={"targets": targets.output},
        doc_md="Snapshot the account (or the replay book) and plan sells and buys.",
    ).output
    branch = RouteTask(
        task_id="route",
        plan=plan,
        doc_md="Trade, replay, or stop here (no trades, or plan_only); the report runs regardless.",
    )
    sells = PhaseOperator(task_id="execute_sells", phase="sells", plan=plan)
    # Margin accounts: proceeds are usable at once. Cash accounts: they settle next business
    # day, so after a short grace the buys spend the settled cash and report the rest.
    settled = SettlementSensor(
        task_id="await_settlement", sells=sells.output, settlement_wait=30, timeout=120
    )
    buys = PhaseOperator(task_id="execute_buys", phase="buys", plan=plan, sells=sells.output)
    replayed = RuntimeTask(
        task_id="replay_session",
        entry="replay_task",
        inputs={"plan": plan},
        doc_md="Fill a past session's plan at the close against the simulated book.",
    )
    branch >> [sells, replayed]
    sells >> settled >> buys
    reported = RuntimeTask(
        task_id="report",
        entry="report_task",
        doc_md="Cancel what of this run is still open, then write the run report (any outcome).",
        # The run's one notification, from its report (any outcome); or, when no report
        # could be written or the cleanup could not finish, the report task's own error. Lists,
        # which Airflow makes of them anyway: a lone notifier is first tested against the
        # Collection ABC, whose negative check walks its ~110 subclasses (0.85 million
        # instructions of each parse).
        on_success_callback=[RunNotifier("success")],
        on_failure_callback=[RunNotifier("failure")],
    )
    # Not downstream of the branch itself: a branch skips every direct downstream it did not pick.
    [targets, plan, buys, replayed] >> reported
    reported.as_teardown()
    # A "Run report" button on the task in the UI, opening the HTML report.
    reported.operator_extra_links = (ReportLink(),)
