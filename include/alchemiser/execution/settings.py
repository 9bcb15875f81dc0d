"""Execution knobs: one object, every parameter documented with its default and used somewhere."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alchemiser.domain.types import Frozen, Symbol


class SymbolOverride(Frozen):
    """One symbol's own spread guard and collar (None: the general setting)."""

    symbol: Symbol
    max_spread_bps: Decimal | None = Field(default=None, gt=0, le=10_000)
    final_collar_bps: Decimal | None = Field(default=None, ge=0, le=1000)


class ExecutionSettings(Frozen):
    """How orders walk the spread, how often we look, and when a phase must stop.

    A walk prices its first limit `start_fraction` of the way across the spread from the near
    touch (0 = bid for a buy, 0.5 = mid), then every `step_interval_seconds` replaces it
    with a price closer to `end_fraction` (1 = the far touch), `limit_steps` prices in all;
    after the last one, or at the walk deadline, the remainder goes as the final order: a
    limit `final_collar_bps` through the far touch of a fresh quote (or, when the operator opts
    in, an unpriced market order).
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
        default=3, ge=1, le=20, description="limit prices tried before the final order"
    )
    step_interval_seconds: float = Field(
        default=10.0, gt=0, le=600, description="time each limit price rests before the next"
    )
    poll_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="pause between batch status polls of a phase; doubles (to 4x) while "
        "nothing changes, never past a due step",
    )
    large_order_ratios: tuple[Decimal, Decimal] = Field(
        default=(Decimal("0.3"), Decimal("0.8")),
        description="an order over these shares of the displayed far-side size starts one or "
        "two ticks more aggressive",
    )
    max_spread_bps: Decimal = Field(
        default=Decimal(50),
        gt=0,
        le=10_000,
        description="a spread wider than this (bps of mid) and than one tick is refused; liquid "
        "ETFs quote a few bps, a one-cent spread on a $5 stock is 20",
    )
    final_order: Literal["collared_limit", "market"] = Field(
        default="collared_limit",
        description="the walk's last order: a limit through the far touch by the collar (never "
        "pays beyond it), or an unpriced market order (operator opt-in)",
    )
    final_collar_bps: Decimal = Field(
        default=Decimal(50),
        ge=0,
        le=1000,
        description="how far through the far touch of a fresh quote the final limit goes; what "
        "it leaves unfilled is reported and left to the next session's plan",
    )
    max_price_move_fraction: Decimal = Field(
        default=Decimal("0.05"),
        gt=0,
        le=1,
        description="a quote mid this far from the price the plan was built on stops the walk "
        "(its order canceled): re-plan rather than trade a stale plan",
    )
    symbol_overrides: tuple[SymbolOverride, ...] = Field(
        default=(),
        description='per-symbol max_spread_bps / final_collar_bps, given as {"SYM": {...}}',
    )
    max_order_slippage_bps: Decimal = Field(
        default=Decimal(100),
        ge=0,
        le=10_000,
        description="circuit breaker: one walk's average fill this far worse than its arrival "
        "mid stops the phase (open orders canceled, the task fails)",
    )
    max_phase_slippage_bps: Decimal = Field(
        default=Decimal(50),
        ge=0,
        le=10_000,
        description="circuit breaker: the phase's value-weighted slippage over its fills so far",
    )
    max_rejected_orders: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="circuit breaker: this many orders refused by the broker stop the phase",
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
        description="phase deadline for limit prices: the remainder goes as the final order",
    )
    market_fill_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="how long the final order gets (and, after the walk deadline, the phase) "
        "before whatever is still open is canceled and reported",
    )
    deadline_cancel_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        le=120,
        description="after the phase deadline's cancels, how long to wait for each order to be "
        "final (a cancel can be pending while the order fills): the walks then report the fills "
        "the positions check will see; what is still open after it is reported and left to the "
        "teardown",
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

    @field_validator("symbol_overrides", mode="before")
    @classmethod
    def _from_mapping(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return tuple({"symbol": sym, **dict(o)} for sym, o in value.items())
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ExecutionSettings:
        if self.end_fraction < self.start_fraction:
            raise ValueError("end_fraction must not be below start_fraction")
        low, high = self.large_order_ratios
        if not 0 < low < high:
            raise ValueError("large_order_ratios must be increasing and positive")
        symbols = [o.symbol for o in self.symbol_overrides]
        if len(set(symbols)) != len(symbols):
            raise ValueError("symbol_overrides names a symbol twice")
        return self

    def spread_bps_for(self, symbol: str) -> Decimal:
        """Return the spread guard of `symbol` (its override, else the general one)."""
        own = self._override(symbol)
        return own.max_spread_bps if own and own.max_spread_bps is not None else self.max_spread_bps

    def collar_bps_for(self, symbol: str) -> Decimal:
        """Return the final limit's collar for `symbol` (its override, else the general one)."""
        own = self._override(symbol)
        if own and own.final_collar_bps is not None:
            return own.final_collar_bps
        return self.final_collar_bps

    def _override(self, symbol: str) -> SymbolOverride | None:
        return next((o for o in self.symbol_overrides if o.symbol == symbol), None)

    def step_fraction(self, step: int) -> Decimal:
        """Return where in the spread limit step `step` (0-based) prices."""
        if self.limit_steps == 1:
            return self.start_fraction
        span = self.end_fraction - self.start_fraction
        return self.start_fraction + span * Decimal(min(step, self.limit_steps - 1)) / Decimal(
            self.limit_steps - 1
        )
