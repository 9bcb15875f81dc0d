"""The run history: one line per run, what the console lists without opening every report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from alchemiser.domain.replay import REPLAY_ACCOUNT
from alchemiser.domain.report import Outcome
from alchemiser.domain.types import Frozen, NonNegativeMoney


class RunSummary(Frozen):
    """One run as the run history lists it."""

    run_id: str = Field(min_length=1)
    session: date
    outcome: Outcome
    written_at: datetime = Field(description="when the report was written")
    report_key: str = Field(description="the run's report.json in the object store")
    account_id: str = Field(default="", description="the account traded or replayed; '' unknown")
    live: bool | None = None
    traded_value: NonNegativeMoney = Field(description="filled value, or the replay's fills")
    slippage_bps: Decimal | None = Field(
        description="fill-value-weighted slippage of every walk versus its arrival mid"
    )
    orders_placed: int = Field(ge=0)
    portfolio_value: Decimal | None = Field(description="the account after the run")
    note: str = ""

    @property
    def replayed(self) -> bool:
        """Return True for a replayed session: its book is simulated, not the account."""
        return self.outcome == "replayed" or self.account_id == REPLAY_ACCOUNT


class RunHistory(Frozen):
    """Every run that wrote a report, oldest first (one entry per run id)."""

    schema_version: int = Field(default=1, ge=1)
    runs: tuple[RunSummary, ...] = ()
