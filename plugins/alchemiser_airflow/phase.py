"""PhaseOperator: execute_sells and execute_buys, with an `on_kill` that leaves nothing working.

Like the other tasks (see tasks.py) it is a one-line call into the runtime, plus the hook
Airflow calls when the task is killed: on SIGTERM (the UI marked it failed, the run was marked
failed, the worker is going away) and when `execution_timeout` fires. The runtime
cancels this task's open orders unless a retry will adopt them (a timeout with tries left).
The run's teardown (the report task) sweeps whatever is still open after the last try.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Literal

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowTaskTimeout


class PhaseOperator(BaseOperator):
    """Run one execution phase of the plan (`sells`, or `buys` after the sells' output)."""

    template_fields: Sequence[str] = ("plan", "sells")

    def __init__(
        self,
        *,
        phase: Literal["sells", "buys"],
        plan: Any,
        sells: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.phase = phase
        self.plan = plan
        self.sells = sells
        self._context: Context | None = None

    def execute(self, context: Context) -> Any:
        """Call the phase's use case through the runtime."""
        # Runtime import: the dag-processor constructs this operator while parsing the DAG.
        from alchemiser.adapters.airflow import runtime  # noqa: PLC0415 - runtime only

        self._context = context
        if self.phase == "sells":
            return runtime.sells_task(context, self.plan)
        return runtime.buys_task(context, self.plan, self.sells)

    def on_kill(self) -> None:
        """Cancel this task's open orders, unless a timed-out try will be retried."""
        if self._context is None:
            return  # killed before it started: nothing placed
        from alchemiser.adapters.airflow import teardown  # noqa: PLC0415 - runtime only

        # Airflow calls on_kill from the timeout's except block, or from its SIGTERM handler.
        timed_out = isinstance(sys.exc_info()[1], AirflowTaskTimeout)
        teardown.phase_killed(self._context, timed_out=timed_out)
