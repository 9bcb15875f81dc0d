"""The rebalance plan: which symbols to sell and buy, by how much, and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from alchemiser.domain.types import (
    Artifact,
    Frozen,
    Money,
    NonNegativeMoney,
    Price,
    Quantity,
    Symbol,
    Weight,
)


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class PlanItem(Frozen):
    """One trade of the plan, with the numbers that justify it."""

    symbol: Symbol
    side: Side
    price: Price = Field(description="reference price (quote mid) the plan was sized with")
    current_qty: Quantity
    current_value: NonNegativeMoney
    current_weight: Weight
    target_weight: Weight
    target_value: NonNegativeMoney
    trade_amount: NonNegativeMoney = Field(description="estimated notional to trade, > 0")
    quantity: Quantity = Field(description="shares to trade (estimate for fractional buys)")
    fractionable: bool
    close_position: bool = Field(default=False, description="sell the whole position")

    @model_validator(mode="after")
    def _consistent(self) -> PlanItem:
        if self.trade_amount <= 0 or self.quantity <= 0:
            raise ValueError(f"{self.symbol}: a plan item must trade a positive amount")
        if self.close_position and (
            self.side is not Side.SELL or self.quantity != self.current_qty
        ):
            raise ValueError(f"{self.symbol}: closing a position sells exactly its quantity")
        if not self.fractionable and self.quantity != self.quantity.to_integral_value():
            raise ValueError(f"{self.symbol}: not fractionable, quantity must be whole")
        return self


class HoldReason(StrEnum):
    """Why a symbol was left as it is this session."""

    NOT_TRADABLE = "not_tradable"
    NO_USABLE_QUOTE = "no_usable_quote"
    STALE_QUOTE = "stale_quote"
    REJECTED = "rejected"


class HeldSymbol(Frozen):
    """A symbol the session leaves as it is: its position kept, or its target weight in cash."""

    symbol: Symbol
    reason: HoldReason
    detail: str = Field(description="what the broker or the quote said, for the report")
    qty: Quantity = Field(description="shares held and kept (0 for a target not yet held)")
    value: NonNegativeMoney = Field(description="what the kept position is worth")
    target_weight: Weight = Field(description="the weight it was meant to have")


class PlanSettings(Frozen):
    """Knobs of the planner, recorded in every plan."""

    cash_reserve_pct: Weight = Field(default=Decimal("0.01"))
    min_trade_pct: Weight = Field(default=Decimal("0.01"))
    min_trade_amount: NonNegativeMoney = Field(default=Decimal("1"))

    def trade_threshold(self, portfolio_value: Decimal) -> Decimal:
        """Return the smallest trade worth making: a drift under it stays in the band."""
        return max(self.min_trade_amount, portfolio_value * self.min_trade_pct)

    max_quote_age_seconds: int = Field(
        default=300,
        gt=0,
        description="a quote this much older than the snapshot's newest quote is stale",
    )
    quote_refetches: int = Field(
        default=3,
        ge=0,
        le=10,
        description="times a missing, zero, crossed or stale quote is fetched again while "
        "planning before its symbol is held as it is for the session",
    )
    quote_refetch_seconds: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="wait before the first re-fetch; doubles each time (0.5, 1, 2: 3.5 s)",
    )


class RebalancePlan(Artifact):
    """Sells then buys that move the portfolio to its targets."""

    KIND: ClassVar[str] = "rebalance_plan"

    as_of: date
    account_id: str = Field(min_length=1, description="the account the plan was made for")
    portfolio_value: Money
    buying_budget: NonNegativeMoney = Field(
        description="min(cash, non-marginable buying power) when the plan was made"
    )
    cash_reserve: NonNegativeMoney
    investable_value: NonNegativeMoney
    settings: PlanSettings
    items: tuple[PlanItem, ...]
    held: tuple[HeldSymbol, ...] = Field(
        default=(),
        description="symbols that needed a trade but are left as they are this session (not "
        "tradable, no usable quote); the others were rebalanced among themselves",
    )

    @model_validator(mode="after")
    def _one_side_per_symbol(self) -> RebalancePlan:
        symbols = [i.symbol for i in self.items] + [h.symbol for h in self.held]
        if len(symbols) != len(set(symbols)):
            raise ValueError("a symbol appears twice in the plan (or is both traded and held)")
        return self

    @property
    def sells(self) -> tuple[PlanItem, ...]:
        """Return the sell items, in plan order."""
        return tuple(i for i in self.items if i.side is Side.SELL)

    @property
    def buys(self) -> tuple[PlanItem, ...]:
        """Return the buy items, in plan order."""
        return tuple(i for i in self.items if i.side is Side.BUY)

    @property
    def is_empty(self) -> bool:
        """Return True when nothing needs to trade."""
        return not self.items

    @property
    def min_trade(self) -> Decimal:
        """Return the smallest trade this plan would make (under it, a drift stays)."""
        return self.settings.trade_threshold(self.portfolio_value)

    def held_line(self) -> str:
        """Return the held symbols and why, in one line (empty when none)."""
        return "; ".join(f"{h.symbol} held: {h.detail}" for h in self.held)
