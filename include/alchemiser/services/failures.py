"""Why a task of a run failed, kept beside the run's artifacts for its report.

A task records its own failure (the error it raised, a timeout, the kill switch) before Airflow
marks it; a worker that dies without a word leaves nothing, and the report says so.
"""

from __future__ import annotations

from pydantic import ValidationError

from alchemiser.domain.keys import failure_key, failures_prefix
from alchemiser.domain.report import TaskFailure
from alchemiser.ports import ObjectStore
from alchemiser.services.context import RunContext


def save_failure(store: ObjectStore, run: RunContext, failure: TaskFailure) -> None:
    """Write (overwrite: the latest try wins) the failure of one task of the run."""
    key = failure_key(run.prefix, failure.task_id)
    store.put(key, failure.model_dump_json(indent=2).encode())


def recorded_failures(store: ObjectStore, run: RunContext) -> tuple[TaskFailure, ...]:
    """Return every failure the run's tasks recorded (unreadable records are skipped)."""
    found = []
    for key in store.list_keys(failures_prefix(run.prefix)):
        try:
            found.append(TaskFailure.model_validate_json(store.get(key)))
        except ValidationError:
            continue  # a record this version cannot read: the task state still says failed
    return tuple(found)
