"""Which run and which trading session a task works for, resolved once and recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from alchemiser.domain.errors import ConfigError
from alchemiser.domain.keys import run_prefix
from alchemiser.domain.sessions import session_of
from alchemiser.domain.types import Frozen, RunId
from alchemiser.ledger.ids import TaskKey

SessionSource = Literal["param", "logical_date", "run_after"]


def resolve_session(
    param: object,
    logical_date: datetime | None,
    run_after: datetime,
    latest_opened: Callable[[datetime], date],
    *,
    backfill: bool = False,
) -> tuple[date, SessionSource]:
    """Return the session a run is for, and where that came from.

    The `session` param wins; else the logical date (scheduled and backfill runs: the timetable's
    data interval is the session); else, for manual runs (no logical date in Airflow 3), the
    latest session that had opened when the run was triggered. A backfill ignores the param
    (see `ignored_session_param`): it would replay one session in every run of the range.
    """
    if param and not (backfill and logical_date is not None):
        try:
            return date.fromisoformat(str(param)), "param"
        except ValueError as exc:
            raise ConfigError(f"param session={param!r} is not a YYYY-MM-DD date") from exc
    if logical_date is not None:
        return session_of(logical_date), "logical_date"
    return latest_opened(run_after), "run_after"


def ignored_session_param(param: object, backfill: bool) -> str:
    """Return why a backfill run ignores its `session` param, or "" when it does not."""
    if not (param and backfill):
        return ""
    return (
        f"param session={param} ignored: this is a backfill run, which replays its own "
        "logical date's session (a session param would replay that one session in every run)"
    )


class RunContext(Frozen):
    """The run a task belongs to and the session it trades."""

    dag_id: str = Field(min_length=1)
    run_id: RunId
    session: date
    session_source: SessionSource = Field(description="where the session came from")
    backfill: bool = Field(
        default=False,
        description="an Airflow backfill run: it replays its session, even the broker's current "
        "one, and never trades",
    )

    def replays(self, broker_session: date) -> bool:
        """Return True when this run replays rather than trades: a session before the broker's
        current one, or any backfill (its range may reach the broker's own session)."""
        return self.backfill or self.session < broker_session

    @property
    def prefix(self) -> str:
        """Return the object-store prefix of this run's artifacts."""
        return run_prefix(self.session, self.run_id)

    def task(self, task_id: str, map_index: int = -1) -> TaskKey:
        """Return the retry-stable key of one of this run's task instances."""
        return TaskKey(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, map_index=map_index)
