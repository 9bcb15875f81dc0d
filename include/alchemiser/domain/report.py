"""The run report and the small references tasks hand each other through XCom."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.replay import ReplayResult
from alchemiser.domain.types import Artifact, Frozen, NonNegativeMoney, Symbol, Weight


class ArtifactRef(Frozen):
    """Where a task wrote its artifact, and a one-line summary: what XCom carries."""

    artifact_id: str
    bucket: str = Field(
        min_length=3,
        description="an S3 bucket name, or the file:// URL of a local store's folder",
    )
    key: str = Field(min_length=1)
    summary: str = ""
    link: str | None = Field(
        default=None, description="a browser address of a readable form (the HTML report)"
    )

    @property
    def uri(self) -> str:
        """Return the object's address: s3://bucket/key, or file:///folder/key."""
        return object_uri(self.bucket, self.key)


def object_uri(bucket: str, key: str) -> str:
    """Return where a key lives in a store named by `bucket` (an S3 name or a folder's URL)."""
    return f"{bucket}/{key}" if "://" in bucket else f"s3://{bucket}/{key}"


class WeightComparison(Frozen):
    """Target versus actual weight of one symbol after the run."""

    symbol: Symbol
    target: Weight
    actual: Weight

    @property
    def drift(self) -> Decimal:
        """Return actual minus target."""
        return self.actual - self.target


Outcome = Literal[
    "success",
    "partial",
    "failed",
    "halted",
    "no_trades",
    "plan_only",
    "replayed",
    "already_rebalanced",
]

NOTHING_LEFT_OPEN = "no open order of this run"
"""What `RunReport.cleanup` says when the teardown found nothing of the run to cancel."""

FailureKind = Literal["error", "partial", "timeout", "killed", "kill_switch", "lost"]


class TaskFailure(Frozen):
    """A task of the run that ended without success, and why, as far as it could tell."""

    task_id: str
    kind: FailureKind = Field(
        description="error (an exception), partial (the partial policy failed a run that "
        "ended partial), timeout (execution_timeout), killed (SIGTERM), kill_switch (the "
        "operator's Variable), lost (the worker died without a word)"
    )
    error: str = Field(description="the error's type and message, or the task's final state")
    try_number: int | None = None


class OrderTally(Frozen):
    """This run's orders as the ledger holds them after the teardown's cleanup."""

    intents: int = Field(ge=0, description="orders the run meant to place (replacements included)")
    placed: int = Field(ge=0, description="of those, orders the broker received")
    filled: int = Field(ge=0, description="orders that filled completely")
    partially_filled: int = Field(ge=0, description="orders that ended with part of their qty")
    replaced: int = Field(
        default=0, ge=0, description="walk steps the broker replaced with the next, re-priced step"
    )
    canceled: int = Field(ge=0, description="canceled or expired (replaced steps not counted)")
    rejected: int = Field(ge=0)
    open: int = Field(ge=0, description="still working at the broker: must be 0 after a run")
    unconfirmed: int = Field(
        default=0,
        ge=0,
        description="intents the broker never answered and the cleanup could not look up "
        "(the broker was down): they may be working; must be 0 after a run",
    )
    traded_value: NonNegativeMoney = Field(description="sum of filled qty x average price")

    def summary(self) -> str:
        """Return the counts in one line, as the note and the notification give them."""
        unconfirmed = f", {self.unconfirmed} unconfirmed" if self.unconfirmed else ""
        return (
            f"{self.placed} placed, {self.filled} filled, {self.replaced} re-priced, "
            f"{self.canceled} canceled, {self.rejected} rejected, {self.open} open{unconfirmed}"
        )


class RunReport(Artifact):
    """Everything one run decided and did, in one document."""

    KIND: ClassVar[str] = "run_report"

    session: date
    session_source: str = Field(description="param, logical_date or run_after")
    venue: str = Field(description="where orders went: the broker base URL or Alpaca paper/live")
    outcome: Outcome
    note: str = Field(default="", description="why nothing was placed, when that is the case")
    live: bool | None = Field(default=None, description="True: real money; None: a replay")
    targets: TargetAllocation | None = Field(description="None when compute_signals failed")
    plan: RebalancePlan | None = Field(description="None when no plan was made")
    before: PortfolioSnapshot | None
    sells: PhaseResult | None
    buys: PhaseResult | None
    replay: ReplayResult | None = None
    after: PortfolioSnapshot | None = Field(
        description="the account when the report was written; None if it could not be read"
    )
    after_error: str = Field(default="", description="why the account could not be read")
    weights: tuple[WeightComparison, ...]
    failures: tuple[TaskFailure, ...] = Field(
        default=(), description="tasks that ended without success"
    )
    orders: OrderTally | None = Field(default=None, description="this run's orders (ledger)")
    cleanup: str = Field(default="", description="what the teardown canceled, in words")
    artifacts: tuple[ArtifactRef, ...]
