"""The content of a run notification: session, venue, outcome, what traded, what failed, the report.

One notification per run, sent by the report task (the run's teardown) for every outcome; a
task failure notification only when the report itself could not be written.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Literal

from pydantic import Field

from alchemiser.domain.orders import PhaseResult, WalkOutcome
from alchemiser.domain.report import NOTHING_LEFT_OPEN, ArtifactRef, RunReport
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
    venue: str | None = None
    live: bool | None = Field(default=None, description="True: real money; None: a replay")
    details: tuple[str, ...] = Field(
        default=(), description="orders, traded value, scaled down, partial, failures, cleanup"
    )
    held: tuple[str, ...] = Field(
        default=(),
        description="symbols the session held back and why, one 'SYMBOL held: reason' each "
        "(RebalancePlan.held and held walks)",
    )

    def subject(self) -> str:
        """Return a one-line subject."""
        money = {True: " LIVE", False: " paper", None: ""}[self.live]
        if self.kind == "failure" and self.outcome is None:
            return (
                f"[alchemiser{money}] FAILED {self.session or '?'}: {self.task_id} ({self.dag_id})"
            )
        outcome = (self.outcome or "done").upper() if self.kind == "failure" else self.outcome
        return f"[alchemiser{money}] {self.session or '?'}: {outcome or 'done'} ({self.dag_id})"

    def lines(self) -> list[str]:
        """Return the body as lines of text."""
        body = [self.subject(), f"run: {self.run_id}", f"session: {self.session or 'unknown'}"]
        if self.venue:
            # A replay's venue already says it is one ("replay (simulated fills ...)").
            live = {True: " (LIVE money)", False: " (paper)", None: ""}[self.live]
            body.append(f"venue: {self.venue}{live}")
        if self.outcome:
            body.append(f"outcome: {self.outcome}")
        body += list(self.details)
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


GOOD = frozenset({"success", "no_trades", "plan_only", "replayed", "already_rebalanced"})


def event_from_report(dag_id: str, report: RunReport, ref: ArtifactRef) -> RunEvent:
    """Return the run's notification from its report: a failure unless the run went well."""
    details = []
    if report.orders is not None and report.orders.intents:
        o = report.orders
        details.append(f"orders: {o.summary()}" + (" (may be working)" if o.unconfirmed else ""))
        details.append(f"traded value: {o.traded_value:,.2f}")
    worth = report.plan.min_trade if report.plan is not None else Decimal(0)
    details += [_phase(p, worth) for p in (report.sells, report.buys) if p is not None]
    if report.replay is not None:
        r = report.replay
        simulated = sum((f.value for f in r.fills), Decimal(0))
        details.append(
            f"replay: {len(r.fills)} simulated fills at the close, {simulated:,.2f}; "
            f"no order was sent (book {r.before.value:,.2f} -> {r.after.value:,.2f})"
        )
    details += [f"failed: {f.task_id} ({f.kind}): {f.error[:300]}" for f in report.failures]
    if report.cleanup and report.cleanup != NOTHING_LEFT_OPEN:
        details.append(f"cleanup: {report.cleanup}")
    if report.note and not report.failures:
        details.append(f"note: {report.note}")
    held = [f"{h.symbol} held: {h.detail}" for h in report.plan.held] if report.plan else []
    held += [
        f"{w.symbol} held: {w.message}"
        for p in (report.sells, report.buys)
        if p is not None
        for w in p.walks
        if w.outcome is WalkOutcome.HELD
    ]
    return RunEvent(
        kind="success" if report.outcome in GOOD else "failure",
        dag_id=dag_id,
        run_id=report.run_id,
        session=report.session.isoformat(),
        outcome=report.outcome,
        report=ref.link or ref.uri,
        venue=report.venue,
        live=report.live,
        details=tuple(details),
        held=tuple(held),
    )


def _phase(phase: PhaseResult, worth_a_trade: Decimal) -> str:
    filled = sum(1 for w in phase.walks if w.outcome.value == "filled")
    line = f"{phase.phase}: {phase.status.value}, {filled}/{len(phase.walks)} filled"
    line += f", {phase.filled_value:,.2f} traded"
    unbought = phase.unbought or Decimal(0)
    if phase.scale is not None and phase.scale < 1 and unbought >= worth_a_trade:
        # Only when what is left is worth a trade: the slippage buffer always leaves a little.
        line += f", SCALED DOWN to {phase.scale * 100:.1f}% by the buying budget"
    if unbought > 0:
        line += f", {unbought:,.2f} unbought"
    return line
