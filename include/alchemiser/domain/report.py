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
from alchemiser.domain.types import Artifact, Frozen, Symbol, Weight


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
    "success", "partial", "failed", "no_trades", "plan_only", "replayed", "already_rebalanced"
]


class RunReport(Artifact):
    """Everything one run decided and did, in one document."""

    KIND: ClassVar[str] = "run_report"

    session: date
    session_source: str = Field(description="param, logical_date or run_after")
    venue: str = Field(description="where orders went: the broker base URL or Alpaca paper/live")
    outcome: Outcome
    note: str = Field(default="", description="why nothing was placed, when that is the case")
    targets: TargetAllocation
    plan: RebalancePlan
    before: PortfolioSnapshot
    sells: PhaseResult | None
    buys: PhaseResult | None
    replay: ReplayResult | None = None
    after: PortfolioSnapshot
    weights: tuple[WeightComparison, ...]
    artifacts: tuple[ArtifactRef, ...]
