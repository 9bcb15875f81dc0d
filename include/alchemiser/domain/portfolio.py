"""What the account holds: cash, buying power, positions and the quotes used to value them."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import AwareDatetime, Field, model_validator

from alchemiser.domain.market import AssetInfo, Quote
from alchemiser.domain.types import (
    Artifact,
    Frozen,
    Money,
    NonNegativeMoney,
    Price,
    Quantity,
    Symbol,
)


class Holding(Frozen):
    """A long position: quantity and the price it is valued at."""

    symbol: Symbol
    qty: Quantity
    price: Price

    @property
    def market_value(self) -> Decimal:
        """Return qty times price."""
        return self.qty * self.price


class PortfolioSnapshot(Artifact):
    """The account as read from the broker at one instant."""

    KIND: ClassVar[str] = "portfolio_snapshot"

    taken_at: AwareDatetime
    account_id: str = Field(min_length=1)
    cash: Money
    buying_power: NonNegativeMoney
    non_marginable_buying_power: NonNegativeMoney
    holdings: tuple[Holding, ...]
    quotes: tuple[Quote, ...] = Field(description="quotes for held and targeted symbols")
    assets: tuple[AssetInfo, ...] = Field(description="venue facts for the quoted symbols")

    @model_validator(mode="after")
    def _unique_sorted(self) -> PortfolioSnapshot:
        for name, symbols in (
            ("holdings", [h.symbol for h in self.holdings]),
            ("quotes", [q.symbol for q in self.quotes]),
            ("assets", [a.symbol for a in self.assets]),
        ):
            if symbols != sorted(set(symbols)):
                raise ValueError(f"{name} must be unique and sorted by symbol")
        return self

    @property
    def positions_value(self) -> Decimal:
        """Return the market value of all holdings."""
        return sum((h.market_value for h in self.holdings), Decimal(0))

    @property
    def portfolio_value(self) -> Decimal:
        """Return cash plus holdings."""
        return self.cash + self.positions_value

    @property
    def buying_budget(self) -> Decimal:
        """Return what can be spent without borrowing: min(cash, non-marginable buying power)."""
        return max(Decimal(0), min(self.cash, self.non_marginable_buying_power))

    def holding(self, symbol: str) -> Holding | None:
        """Return the holding of `symbol`, if any."""
        return next((h for h in self.holdings if h.symbol == symbol), None)

    def quote(self, symbol: str) -> Quote | None:
        """Return the quote of `symbol`, if any."""
        return next((q for q in self.quotes if q.symbol == symbol), None)

    def asset(self, symbol: str) -> AssetInfo | None:
        """Return the venue facts of `symbol`, if any."""
        return next((a for a in self.assets if a.symbol == symbol), None)

    def weights(self) -> dict[str, Decimal]:
        """Return each holding's share of the portfolio value."""
        value = self.portfolio_value
        if value <= 0:
            return {}
        return {h.symbol: h.market_value / value for h in self.holdings}
