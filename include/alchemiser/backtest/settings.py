"""What a backtest assumes: starting cash, the live planner's knobs, costs, whole shares."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.replay import CostModel
from alchemiser.domain.types import Frozen, NonNegativeMoney, Symbol


class BacktestSettings(Frozen):
    """Every assumption of a backtest, printed on its tearsheet."""

    initial_cash: NonNegativeMoney = Field(
        default=Decimal(100_000), description="cash in the book before the first session"
    )
    plan: PlanSettings = Field(
        default_factory=PlanSettings,
        description="the live planner's settings (cash reserve, band, minimum trade)",
    )
    costs: CostModel = Field(default_factory=CostModel, description="slippage and commission")
    whole_shares: frozenset[Symbol] | None = Field(
        default=frozenset(),
        description="symbols traded in whole shares only; None means every symbol "
        "(Alpaca trades most US equities fractionally, so the default is none)",
    )
    benchmark: Symbol | None = Field(
        default="SPY", description="held from the first session's close, for comparison"
    )

    def fractionable(self, symbol: str) -> bool:
        """Return whether `symbol` may be bought in fractions."""
        return self.whole_shares is not None and symbol not in self.whole_shares
