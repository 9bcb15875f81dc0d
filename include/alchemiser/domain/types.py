"""Named Decimal value types and the frozen base models every DTO builds on."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[Decimal, Field(allow_inf_nan=False)]
"""An amount in USD; may be negative only where a field says so (cash can be)."""

NonNegativeMoney = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Weight = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
Symbol = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9.]{0,9}$")]
RunId = Annotated[str, Field(min_length=1, max_length=250)]

QTY_STEP = Decimal("0.000000001")
"""The finest quantity: Alpaca trades fractional shares to 9 decimals. Final weights and average
fill prices are kept to the same precision."""

CENT = Decimal("0.01")
"""The smallest amount of money (USD), and the price tick at or above $1."""

BPS = Decimal(10_000)
"""Basis points in one: `x_bps / BPS` is the fraction."""


def bps_text(value: Decimal) -> str:
    """Return basis points to one decimal as a person reads them: never `-0.0`."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


WEIGHT_SUM_TOLERANCE = Decimal("0.000001")
"""Weights of one allocation must sum to 1 within this tolerance."""


class Frozen(BaseModel):
    """Immutable, closed-schema base for value objects inside DTOs."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Artifact(Frozen):
    """A persisted DTO: versioned, tied to its run (correlation) and its inputs (causation)."""

    KIND: ClassVar[str] = "artifact"

    schema_version: int = Field(default=1, ge=1)
    run_id: RunId
    derived_from: tuple[str, ...] = Field(
        default=(), description="artifact ids this one was computed from"
    )

    @property
    def artifact_id(self) -> str:
        """Return the stable id other artifacts cite in `derived_from`."""
        return f"{self.KIND}:{self.run_id}"
