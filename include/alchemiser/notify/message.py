"""The content of a run notification: session, outcome, the failing task and error, the report."""

from __future__ import annotations

from html import escape
from typing import Literal

from pydantic import Field

from alchemiser.domain.types import Frozen

MAX_ERROR = 2000


class RunEvent(Frozen):
    """A finished run (success) or a task that failed for good (failure)."""

    kind: Literal["success", "failure"]
    dag_id: str
    run_id: str
    session: str | None = None
    outcome: str | None = Field(default=None, description="the report's outcome, when known")
    task_id: str | None = None
    error: str | None = None
    report: str | None = Field(default=None, description="where the run report is")
    held: tuple[str, ...] = Field(
        default=(),
        description="symbols the session held back and why, one 'SYMBOL held: reason' each "
        "(RebalancePlan.held and held walks)",
    )

    def subject(self) -> str:
        """Return a one-line subject."""
        if self.kind == "failure":
            return f"[alchemiser] FAILED {self.session or '?'}: {self.task_id} ({self.dag_id})"
        return f"[alchemiser] {self.session or '?'}: {self.outcome or 'done'} ({self.dag_id})"

    def lines(self) -> list[str]:
        """Return the body as lines of text."""
        body = [self.subject(), f"run: {self.run_id}", f"session: {self.session or 'unknown'}"]
        if self.outcome:
            body.append(f"outcome: {self.outcome}")
        if self.task_id:
            body.append(f"failed task: {self.task_id}")
        if self.error:
            body.append(f"error: {self.error[:MAX_ERROR]}")
        body += self.held
        body.append(f"report: {self.report or 'not written'}")
        return body

    def text(self) -> str:
        """Return the plain-text body (Slack, logs)."""
        return "\n".join(self.lines())

    def html(self) -> str:
        """Return the HTML body (email)."""
        items = "".join(f"<li>{escape(line)}</li>" for line in self.lines()[1:])
        return f"<p><b>{escape(self.subject())}</b></p><ul>{items}</ul>"
