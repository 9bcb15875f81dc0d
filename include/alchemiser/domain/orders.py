"""Orders: what we intend to send and what the broker says happened."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from alchemiser.domain.market import Quote
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


class TopOfBook(Frozen):
    """A quote with its displayed sizes: what an order walk prices and sizes against."""

    quote: Quote
    bid_size: Quantity
    ask_size: Quantity

    def far_size(self, side: Side) -> Decimal:
        """Return the displayed size an order of `side` would take (the ask for a buy)."""
        return self.ask_size if side is Side.BUY else self.bid_size


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
    limit_price: Price | None = None
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


class WalkOutcome(StrEnum):
    """How one symbol's walk ended."""

    FILLED = "filled"
    PARTIAL = "partial"
    UNFILLED = "unfilled"
    REJECTED = "rejected"
    HELD = "held"
    """Nothing traded because the symbol could not be this session (not tradable, no usable
    quote): the position stays as it is; the phase goes on and counts as partial."""


WalkStop = Literal["collar", "price_moved", "circuit_breaker"]
"""Why a walk stopped with shares left on purpose: its final limit's collar held, the price ran
away from the plan's, or the phase's circuit breaker tripped."""

FinalOrder = Literal["collared_limit", "market"]


class WalkResult(Frozen):
    """One symbol's orders in a phase, summed from the broker's fills, and how well they did.

    Execution quality: `arrival_mid` is the quote mid when the walk started; `slippage_bps` is
    the average fill's distance from it, positive when it cost us (paid above, sold below).
    """

    symbol: Symbol
    side: Side
    outcome: WalkOutcome
    target_qty: Quantity
    filled_qty: Quantity
    avg_fill_price: Price | None = None
    arrival_mid: Price | None = None
    slippage_bps: Decimal | None = Field(default=None, allow_inf_nan=False)
    time_to_fill_seconds: float | None = Field(default=None, ge=0)
    steps: int = Field(ge=0, description="orders placed: limit prices tried, plus the final")
    ended_with_market: bool = False
    final_order: FinalOrder | None = Field(
        default=None, description="the final order the walk sent after its limits, if any"
    )
    dust_qty: Quantity = Field(
        default=Decimal(0),
        description="shares short of the target too small to trade (under $1 or the quantity "
        "step): the walk counts as filled",
    )
    stopped_by: WalkStop | None = Field(
        default=None,
        description="why shares were left on purpose; the next session's plan picks them up",
    )
    client_order_ids: tuple[ClientOrderId, ...] = Field(description="every step's order, in order")
    message: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> WalkResult:
        if self.filled_qty > self.target_qty:
            raise ValueError(f"{self.symbol}: filled {self.filled_qty} > target {self.target_qty}")
        if (self.filled_qty > 0) != (self.avg_fill_price is not None):
            raise ValueError(f"{self.symbol}: an average fill price goes with a filled quantity")
        return self

    @property
    def filled_value(self) -> Decimal:
        """Return filled qty times average fill price."""
        return self.filled_qty * self.avg_fill_price if self.avg_fill_price else Decimal(0)


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
    orders: tuple[OrderResult, ...] = Field(description="the last order of each symbol's walk")
    walks: tuple[WalkResult, ...] = Field(
        default=(), description="per symbol: fills summed over every step, execution quality"
    )
    scale: Decimal | None = Field(
        default=None, ge=0, le=1, description="factor the planned buys were scaled down by"
    )
    unbought: NonNegativeMoney | None = Field(
        default=None, description="planned buy value not bought; the next session's plan has it"
    )
    message: str = ""

    @property
    def artifact_id(self) -> str:
        """Return the stable id, one per phase."""
        return f"{self.KIND}_{self.phase}:{self.run_id}"

    @property
    def filled_value(self) -> Decimal:
        """Return the total value filled in this phase (over every step of every walk)."""
        if self.walks:
            return sum((w.filled_value for w in self.walks), Decimal(0))
        return sum((o.filled_value for o in self.orders), Decimal(0))


def walk_phase_status(walks: tuple[WalkResult, ...], planned: int) -> PhaseStatus:
    """Classify a phase from its walks: every plan item filled, some fills, or none."""
    if planned == 0:
        return PhaseStatus.SKIPPED
    filled = [w for w in walks if w.outcome is WalkOutcome.FILLED]
    if len(filled) == planned:
        return PhaseStatus.SUCCESS
    if any(w.filled_qty > 0 or w.outcome is WalkOutcome.HELD for w in walks):
        return PhaseStatus.PARTIAL
    return PhaseStatus.FAILED
