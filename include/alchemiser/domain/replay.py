"""Replay: what the system would have done on a past session, against a simulated book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from alchemiser.domain.plan import Side
from alchemiser.domain.portfolio import Holding
from alchemiser.domain.types import (
    BPS,
    Artifact,
    Frozen,
    Money,
    NonNegativeMoney,
    Price,
    Quantity,
    Symbol,
)

REPLAY_ACCOUNT = "replay"
"""The account id of a replayed book: a simulated one, never a broker account."""


class CostModel(Frozen):
    """What a simulated fill costs beyond the close: slippage on the price, a fee per order."""

    slippage_bps: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=1000,
        allow_inf_nan=False,
        description="buys fill this many bps above the close, sells as many below",
    )
    commission: NonNegativeMoney = Field(
        default=Decimal(0), description="a flat fee per filled order, in USD (Alpaca: 0)"
    )

    def fill_price(self, close: Decimal, side: Side) -> Decimal:
        """Return the price a simulated order fills at."""
        shift = close * self.slippage_bps / BPS
        return close + shift if side is Side.BUY else close - shift


class SimulatedFill(Frozen):
    """One trade of a replay, filled in full at the session's close (plus the cost model)."""

    symbol: Symbol
    side: Side
    qty: Quantity
    price: Price = Field(description="the fill price: the close, moved by the slippage")
    commission: NonNegativeMoney = Field(default=Decimal(0))

    @property
    def value(self) -> Decimal:
        """Return qty times price."""
        return self.qty * self.price


class ReplayBook(Artifact):
    """The simulated portfolio at a session's close, carried to the next replayed session."""

    KIND: ClassVar[str] = "replay_book"

    session: date
    cash: Money
    holdings: tuple[Holding, ...] = Field(description="valued at the session's close")

    @property
    def value(self) -> Decimal:
        """Return cash plus holdings at close."""
        return self.cash + sum((h.market_value for h in self.holdings), Decimal(0))


class ReplayResult(Artifact):
    """A replayed session: the book before, the simulated fills, the book after."""

    KIND: ClassVar[str] = "replay"

    session: date
    before: ReplayBook
    fills: tuple[SimulatedFill, ...]
    after: ReplayBook


class EquityPoint(Frozen):
    """The replayed book's value at one session's close."""

    session: date
    value: Money


class EquityCurve(Frozen):
    """Every replayed session's closing book value, in session order."""

    points: tuple[EquityPoint, ...]
