"""Execution knobs: one object, every parameter documented with its default and used somewhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from alchemiser.domain.types import Frozen


class ExecutionSettings(Frozen):
    """How orders walk the spread, how often we look, and when a phase must stop.

    A walk prices its first limit `start_fraction` of the way across the spread from the near
    touch (0 = bid for a buy, 0.5 = mid), then every `step_interval_seconds` replaces it
    with a price closer to `end_fraction` (1 = the far touch), `limit_steps` prices in all;
    after the last one, or at the walk deadline, the remainder goes as a market order.
    """

    start_fraction: Decimal = Field(
        default=Decimal("0.5"),
        ge=0,
        le=1,
        description="first limit, as a fraction of the spread from the near touch (0.5 = mid)",
    )
    end_fraction: Decimal = Field(
        default=Decimal(1), ge=0, le=1, description="last limit (1 = the far touch)"
    )
    limit_steps: int = Field(
        default=3, ge=1, le=20, description="limit prices tried before the market order"
    )
    step_interval_seconds: float = Field(
        default=10.0, gt=0, le=600, description="time each limit price rests before the next"
    )
    poll_interval_seconds: float = Field(
        default=1.0, gt=0, le=60, description="pause between batch status polls of a phase"
    )
    large_order_ratios: tuple[Decimal, Decimal] = Field(
        default=(Decimal("0.3"), Decimal("0.8")),
        description="an order over these shares of the displayed far-side size starts one or "
        "two ticks more aggressive",
    )
    max_spread_fraction: Decimal = Field(
        default=Decimal("0.10"), gt=0, description="a wider spread (of the mid) is suspicious"
    )
    min_quote_price: Decimal = Field(
        default=Decimal("0.01"), gt=0, description="a bid or ask below this is suspicious"
    )
    max_quote_age_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="an older quote (broker time) is stale"
    )
    quote_retry_seconds: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="wait before re-fetching a suspicious quote; doubles on each re-fetch",
    )
    quote_refetches: int = Field(
        default=3,
        ge=0,
        le=10,
        description="re-fetches of a suspicious quote (0.5, 1, 2 s apart) before the walk "
        "ends held, its symbol kept as it is for the session",
    )
    walk_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="phase deadline for limit prices: the remainder goes to market after it",
    )
    market_fill_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="after the walk deadline, how long market orders get before whatever is "
        "still open is canceled and reported",
    )
    task_overhead_seconds: float = Field(
        default=60.0,
        ge=0,
        le=600,
        description="allowance for the scheduler starting sells, settlement and buys, counted "
        "in the worst-case timeline a run must fit before the close buffer",
    )
    open_delay_minutes: int = Field(
        default=5, ge=0, le=120, description="no orders in the first minutes after the open"
    )
    close_buffer_minutes: int = Field(
        default=5,
        ge=0,
        le=120,
        description="walks and market orders finish this long before the close (early ones too)",
    )
    max_concurrent_orders: int = Field(
        default=400,
        ge=1,
        le=500,
        description="walks worked at once; must fit one page (500) of the broker's order list",
    )
    adoption_lookback_hours: float = Field(
        default=24.0,
        gt=0,
        le=96,
        description="how far back a (re)started phase looks for orders an earlier try placed",
    )
    buy_slippage_buffer_bps: Decimal = Field(
        default=Decimal(100),
        ge=0,
        le=1000,
        description="buys are sized so that a fill this far above the ask is still paid for",
    )
    position_tolerance: Decimal = Field(
        default=Decimal("0.000001"),
        ge=0,
        description="shares a position may differ from the plan's snapshot plus this run's "
        "fills before the run refuses to trade (before the sells) or fails (after the buys)",
    )
    partial_policy: Literal["fail", "succeed"] = Field(
        default="fail",
        description="a phase that ends partial fails its task (after writing its artifact)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ExecutionSettings:
        if self.end_fraction < self.start_fraction:
            raise ValueError("end_fraction must not be below start_fraction")
        low, high = self.large_order_ratios
        if not 0 < low < high:
            raise ValueError("large_order_ratios must be increasing and positive")
        return self

    def step_fraction(self, step: int) -> Decimal:
        """Return where in the spread limit step `step` (0-based) prices."""
        if self.limit_steps == 1:
            return self.start_fraction
        span = self.end_fraction - self.start_fraction
        return self.start_fraction + span * Decimal(min(step, self.limit_steps - 1)) / Decimal(
            self.limit_steps - 1
        )
