"""Market and venue facts: quotes, daily bars, assets, the market clock, the account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import AwareDatetime, Field, model_validator

from alchemiser.domain.types import Frozen, Money, NonNegativeMoney, Price, Quantity, Symbol


class Quote(Frozen):
    """A two-sided quote."""

    symbol: Symbol
    bid: Price
    ask: Price
    timestamp: AwareDatetime

    @model_validator(mode="after")
    def _not_crossed(self) -> Quote:
        if self.bid > self.ask:
            raise ValueError(f"{self.symbol}: crossed quote (bid {self.bid} > ask {self.ask})")
        return self

    @property
    def mid(self) -> Decimal:
        """Return the midpoint of bid and ask."""
        return (self.bid + self.ask) / 2


class Bar(Frozen):
    """One daily bar; only `close` feeds indicators."""

    session: date
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Quantity


class AssetInfo(Frozen):
    """What the venue allows for a symbol."""

    symbol: Symbol
    tradable: bool
    fractionable: bool


class MarketClock(Frozen):
    """The venue's clock: its time and whether the market is open."""

    timestamp: AwareDatetime
    is_open: bool
    next_open: AwareDatetime
    next_close: AwareDatetime


class AccountState(Frozen):
    """Balances as the broker reports them."""

    account_id: str = Field(min_length=1)
    account_number: str | None = Field(
        default=None, description="the number the broker shows the owner (the live opt-in names it)"
    )
    status: str
    cash: Money
    buying_power: NonNegativeMoney
    non_marginable_buying_power: NonNegativeMoney
    equity: Money

    @property
    def buying_budget(self) -> Decimal:
        """Return what can be spent without borrowing: min(cash, non-marginable buying power)."""
        return max(Decimal(0), min(self.cash, self.non_marginable_buying_power))


class BrokerPosition(Frozen):
    """A position as the broker reports it."""

    symbol: Symbol
    qty: Quantity
    current_price: Price
