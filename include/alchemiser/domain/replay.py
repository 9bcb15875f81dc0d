"""Replay: what the system would have done on a past session, against a simulated book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from alchemiser.domain.plan import Side
from alchemiser.domain.portfolio import Holding
from alchemiser.domain.types import Artifact, Frozen, Money, Price, Quantity, Symbol


class SimulatedFill(Frozen):
    """One trade of a replay, filled in full at the session's close."""

    symbol: Symbol
    side: Side
    qty: Quantity
    price: Price

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
