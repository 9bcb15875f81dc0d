"""RuntimeTask and RouteTask: the DAG's one-call tasks as plain operators.

Each task calls one entry point of `alchemiser.adapters.airflow.runtime` (or the teardown's
`report_task`) with its context and upstream XComs, and returns what it returns, as TaskFlow's
`@task` would. TaskFlow is not used because importing it loads the Python operator's machinery
(virtualenv support, `packaging`'s requirement parser): about 20 ms of CPU on every parse of
the DAG file, several times a trivial DAG's whole parse. These operators load nothing beyond
airflow.sdk, and the runtime itself only when a task runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseBranchOperator, BaseOperator, Context

ENTRY_POINTS = {
    "signals_task": "runtime",
    "plan_task": "runtime",
    "replay_task": "runtime",
    "route_task": "runtime",
    "report_task": "teardown",
}
"""What a RuntimeTask may call, and the module of `alchemiser.adapters.airflow` that holds it."""


def call_entry_point(entry: str, context: Context, inputs: Mapping[str, Any]) -> Any:
    """Call `entry` with the task's context and its (rendered) upstream values."""
    # Runtime import: the dag-processor constructs these operators while parsing the DAG.
    from alchemiser.adapters.airflow import runtime, teardown  # noqa: PLC0415 - runtime only

    module = {"runtime": runtime, "teardown": teardown}[ENTRY_POINTS[entry]]
    return getattr(module, entry)(context, **inputs)


class RuntimeTask(BaseOperator):
    """Call one entry point; its return value is the task's XCom, as with `@task`."""

    template_fields: Sequence[str] = ("inputs",)

    def __init__(self, *, entry: str, inputs: Mapping[str, Any] | None = None, **kwargs: Any):
        if entry not in ENTRY_POINTS:
            raise ValueError(f"entry {entry!r}: must be one of {', '.join(sorted(ENTRY_POINTS))}")
        super().__init__(**kwargs)
        self.entry = entry
        self.inputs = dict(inputs or {})

    def execute(self, context: Context) -> Any:
        """Call the entry point."""
        return call_entry_point(self.entry, context, self.inputs)


class RouteTask(BaseBranchOperator):
    """Choose what follows the plan (runtime's `route_task`): the task ids to run."""

    template_fields: Sequence[str] = ("plan",)

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def choose_branch(self, context: Context) -> str | list[str]:
        """Return the branch runtime's route_task picks (possibly none)."""
        chosen: list[str] = call_entry_point("route_task", context, {"plan": self.plan})
        return chosen
