"""ReportLink: a "Run report" button on the report task that opens the HTML report.

Airflow 3 evaluates a task's extra links in the worker right after the task and stores them in
XCom; this one reads the report task's own return value (an ArtifactRef with a `link`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


class ReportLink(BaseOperatorLink):
    """Open the run report written by this task."""

    name = "Run report"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Return the report's address, or "" (no button) when the task wrote none."""
        pull: Any = getattr(ti_key, "xcom_pull", None)
        if pull is None:
            return ""
        ref = pull(task_ids=operator.task_id)
        return str(ref.get("link") or "") if isinstance(ref, dict) else ""
