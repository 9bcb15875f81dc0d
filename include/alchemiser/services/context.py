"""Which run and which trading session a task works for, resolved once and recorded."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from alchemiser.domain.types import Frozen, RunId
from alchemiser.ledger.ids import TaskKey
from alchemiser.services.artifacts import run_prefix

SessionSource = Literal["param", "logical_date", "run_after"]


class RunContext(Frozen):
    """The run a task belongs to and the session it trades."""

    dag_id: str = Field(min_length=1)
    run_id: RunId
    session: date
    session_source: SessionSource = Field(description="where the session came from")

    @property
    def prefix(self) -> str:
        """Return the object-store prefix of this run's artifacts."""
        return run_prefix(self.session, self.run_id)

    def task(self, task_id: str, map_index: int = -1) -> TaskKey:
        """Return the retry-stable key of one of this run's task instances."""
        return TaskKey(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, map_index=map_index)
