"""Execution knobs, one object with documented defaults."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from alchemiser.domain.types import Frozen


class ExecutionSettings(Frozen):
    """How long to wait for fills and how often to look."""

    fill_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="how long a phase waits for its orders"
    )
    poll_interval_seconds: float = Field(
        default=0.5, gt=0, le=60, description="pause between batch status polls"
    )
    settlement_tolerance_bps: Decimal = Field(
        default=Decimal(10),
        ge=0,
        le=100,
        description="proceeds may arrive this much short (fees) and still count as settled",
    )
