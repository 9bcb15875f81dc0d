"""The run a task belongs to and the adapters it works with, from connections and Variables.

bootstrap builds the adapters; this module only reads what to build them from (connection
`alpaca_default`, Variable `alchemiser_state_dir` or connection `aws_default`, Variable
`alchemiser_bucket`) and checks the live opt-in before a task may trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import structlog
from airflow.sdk import Variable

from alchemiser.adapters.airflow.connections import (
    BUCKET_VARIABLE,
    STATE_DIR_VARIABLE,
    alpaca_from_connection,
    aws_connection_client,
)
from alchemiser.adapters.airflow.live import check_venue, run_type
from alchemiser.bootstrap import build_adapters, build_store
from alchemiser.calendars.trading import calendar
from alchemiser.defaults import DEFAULT_BUCKET
from alchemiser.ports import Adapters, ObjectStore
from alchemiser.services.context import RunContext, ignored_session_param, resolve_session

log = structlog.get_logger(__name__)

Json = dict[str, Any]


def run_context(context: Mapping[str, Any]) -> RunContext:
    """Resolve the run's trading session the same way in every task (see resolve_session)."""
    dag_run = context["dag_run"]
    param = (context.get("params") or {}).get("session")
    backfill = run_type(context) == "backfill"
    if ignored := ignored_session_param(param, backfill):
        log.warning("session param ignored", reason=ignored, run_id=dag_run.run_id)
    session, source = resolve_session(
        param, dag_run.logical_date, dag_run.run_after, _latest_opened_session, backfill=backfill
    )
    return RunContext(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        session=session,
        session_source=source,
        backfill=backfill,
    )


def _latest_opened_session(moment: datetime) -> date:
    return calendar().latest_opened(moment).day


def adapters(context: Mapping[str, Any] | None = None) -> Adapters:
    """Build the real adapters from `alpaca_default`, `alchemiser_bucket` and the store's
    settings: Variable `alchemiser_state_dir` (a local folder) if set, else `aws_default`.

    With a task context, the run's `mode` param must agree with the connection first.
    """
    alpaca = alpaca_from_connection()
    log.info("venue", venue=alpaca.venue, money="LIVE" if not alpaca.paper else "paper")
    built = build_adapters(alpaca, object_store())
    if context is not None:
        check_venue(context, alpaca, built.broker)
    return built


def object_store() -> ObjectStore:
    """Build the object store alone (recording a failure must not need the broker).

    Variable `alchemiser_state_dir` set: the local store in that folder (make run, make
    airflow); else S3 through `aws_default` and Variable `alchemiser_bucket`.
    """
    return build_store(
        Variable.get(BUCKET_VARIABLE, default=DEFAULT_BUCKET),
        Variable.get(STATE_DIR_VARIABLE, default=""),
        aws_connection_client,
    )


def is_live() -> bool:
    """Return whether connection `alpaca_default` trades real money."""
    return not alpaca_from_connection().paper
