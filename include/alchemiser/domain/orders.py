"""Orders: what we intend to send and what the broker says happened."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from alchemiser.domain.plan import Side
from alchemiser.domain.types import (
    Artifact,
    Frozen,
    NonNegativeMoney,
    Price,
    Quantity,
    RunId,
    Symbol,
)

ClientOrderId = str


class OrderStatus(StrEnum):
    """Broker order states (Alpaca's vocabulary)."""

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    CALCULATED = "calculated"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    HELD = "held"

    @property
    def is_terminal(self) -> bool:
        """Return True when the order can no longer change."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
        OrderStatus.STOPPED,
    }
)


class OrderIntent(Frozen):
    """An order we mean to place, with the deterministic id that makes it idempotent."""

    client_order_id: ClientOrderId = Field(min_length=1, max_length=128)
    run_id: RunId
    symbol: Symbol
    side: Side
    order_type: Literal["market", "limit"] = "market"
    qty: Quantity | None = None
    notional: NonNegativeMoney | None = None
    limit_price: Price | None = None
    time_in_force: Literal["day"] = "day"

    @model_validator(mode="after")
    def _sized_once(self) -> OrderIntent:
        if (self.qty is None) == (self.notional is None):
            raise ValueError(f"{self.client_order_id}: give exactly one of qty and notional")
        if (self.qty is not None and self.qty <= 0) or (
            self.notional is not None and self.notional < 1
        ):
            raise ValueError(f"{self.client_order_id}: qty must be > 0 and notional >= $1")
        if self.notional is not None and self.order_type != "market":
            raise ValueError(f"{self.client_order_id}: notional orders must be market orders")
        if (self.order_type == "limit") != (self.limit_price is not None):
            raise ValueError(f"{self.client_order_id}: limit orders need a limit price, only they")
        return self


class OrderResult(Frozen):
    """The broker's view of one order: ids, status and what actually filled."""

    client_order_id: ClientOrderId
    broker_order_id: str = Field(min_length=1)
    symbol: Symbol
    side: Side
    status: OrderStatus
    qty: Quantity | None = None
    notional: NonNegativeMoney | None = None
    filled_qty: Quantity
    filled_avg_price: Price | None = None
    submitted_at: AwareDatetime | None = None
    filled_at: AwareDatetime | None = None

    @property
    def filled_value(self) -> Decimal:
        """Return filled qty times average fill price."""
        if self.filled_avg_price is None:
            return Decimal(0)
        return self.filled_qty * self.filled_avg_price

    @property
    def is_terminal(self) -> bool:
        """Return True when the order can no longer change."""
        return self.status.is_terminal


class PhaseStatus(StrEnum):
    """How a phase ended."""

    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


class PhaseResult(Artifact):
    """The orders one execution phase placed and how they ended."""

    KIND: ClassVar[str] = "phase"

    phase: Literal["sells", "buys"]
    status: PhaseStatus
    started_at: AwareDatetime
    finished_at: AwareDatetime
    budget: NonNegativeMoney | None = Field(
        default=None, description="buying budget the buys were sized from"
    )
    orders: tuple[OrderResult, ...]
    message: str = ""

    @property
    def artifact_id(self) -> str:
        """Return the stable id, one per phase."""
        return f"{self.KIND}_{self.phase}:{self.run_id}"

    @property
    def filled_value(self) -> Decimal:
        """Return the total value filled in this phase."""
        return sum((o.filled_value for o in self.orders), Decimal(0))


def phase_status(orders: tuple[OrderResult, ...], planned: int) -> PhaseStatus:
    """Classify a phase from its orders: all filled, some filled, or none."""
    if planned == 0:
        return PhaseStatus.SKIPPED
    filled = [o for o in orders if o.status is OrderStatus.FILLED]
    if len(filled) == planned:
        return PhaseStatus.SUCCESS
    if any(o.filled_qty > 0 for o in orders):
        return PhaseStatus.PARTIAL
    return PhaseStatus.FAILED
