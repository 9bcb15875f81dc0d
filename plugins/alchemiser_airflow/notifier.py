"""RunNotifier: an Airflow notifier that reports a run's success or a task's final failure.

Used as the report task's success callback and every task's failure callback (task callbacks
run in the task's own process, where connections are readable). Delivery and the message live in
`alchemiser.adapters.airflow.notify` and `alchemiser.notify.message`.
"""

from __future__ import annotations

from typing import Literal

from airflow.sdk import BaseNotifier, Context


class RunNotifier(BaseNotifier):
    """Send a RunEvent of `kind` built from the callback's context."""

    def __init__(self, kind: Literal["success", "failure"]) -> None:
        super().__init__()
        self.kind = kind

    def notify(self, context: Context) -> None:
        """Build the event and deliver it."""
        # Runtime import: the dag-processor constructs this object while parsing the DAG.
        from alchemiser.adapters.airflow import notify, teardown  # noqa: PLC0415 - runtime only

        notify.deliver(teardown.run_event(context, self.kind))
