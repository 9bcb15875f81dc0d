"""Limit prices for a walk: in the spread, on tick, nudged for large orders, collared (pure)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alchemiser.domain.market import Quote
from alchemiser.domain.plan import Side
from alchemiser.domain.types import BPS, CENT
from alchemiser.execution.settings import ExecutionSettings

SUB_PENNY = Decimal("0.0001")


def tick_for(price: Decimal) -> Decimal:
    """Return Alpaca's price increment: $0.01 at or above $1, $0.0001 below."""
    return CENT if price >= 1 else SUB_PENNY


def on_tick(price: Decimal, side: Side) -> Decimal:
    """Round onto the tick grid in the direction that never pays more (buys down, sells up)."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    rounded = price.quantize(tick_for(price), rounding=rounding)
    # A price just under $1 rounded up can land on $1.0000: requantize on the coarser grid.
    return rounded.quantize(tick_for(rounded), rounding=rounding)


def suspicious(quote: Quote, settings: ExecutionSettings, broker_time: datetime) -> str | None:
    """Return why a quote should not be traded against, or None when it looks sane.

    Age is judged on the broker's clock (`broker_time`), never ours: a venue's quotes are
    stamped in its own time.
    """
    age = (broker_time - quote.timestamp).total_seconds()
    if age > settings.max_quote_age_seconds:
        return f"stale quote: {age:.0f} s old (max {settings.max_quote_age_seconds:.0f} s)"
    if quote.bid < settings.min_quote_price or quote.ask < settings.min_quote_price:
        return f"price under {settings.min_quote_price} (bid {quote.bid}, ask {quote.ask})"
    if quote.ask < quote.bid:
        return f"crossed quote (bid {quote.bid} > ask {quote.ask})"
    spread = quote.ask - quote.bid
    limit = settings.spread_bps_for(quote.symbol)
    # One tick is the narrowest spread there is: never refuse it, whatever it is in bps.
    if spread > tick_for(quote.bid) and spread / quote.mid * BPS > limit:
        return f"spread {spread / quote.mid * BPS:.1f} bps of mid is over {limit} bps"
    return None


def price_moved(plan_price: Decimal, quote: Quote, max_fraction: Decimal) -> str | None:
    """Return why the market left the plan's price behind, or None when within `max_fraction`."""
    move = abs(quote.mid - plan_price) / plan_price
    if move <= max_fraction:
        return None
    return (
        f"price moved {move:.1%} from the plan's {plan_price} to {quote.mid} (max "
        f"{max_fraction:.1%}): walk stopped, re-plan"
    )


def collared_price(quote: Quote, side: Side, collar_bps: Decimal) -> Decimal:
    """Return the final limit: `collar_bps` through the far touch, on tick, never beyond it."""
    if side is Side.BUY:
        return on_tick(quote.ask * (1 + collar_bps / BPS), side)
    return on_tick(quote.bid * (1 - collar_bps / BPS), side)


def size_ticks(qty: Decimal, displayed: int | None, settings: ExecutionSettings) -> int:
    """Return 0, 1 or 2 extra ticks of aggression for an order large against the far side."""
    if not displayed or displayed <= 0:
        return 0
    share = qty / Decimal(displayed)
    low, high = settings.large_order_ratios
    return 2 if share > high else 1 if share > low else 0


def step_price(
    quote: Quote, side: Side, step: int, extra_ticks: int, settings: ExecutionSettings
) -> Decimal:
    """Return the limit price of walk step `step`, between the touches and on tick."""
    fraction = settings.step_fraction(step)
    spread = quote.ask - quote.bid
    if side is Side.BUY:
        raw = quote.bid + spread * fraction
        price = on_tick(raw, side) + tick_for(raw) * extra_ticks
        return max(quote.bid, min(price, quote.ask))
    raw = quote.ask - spread * fraction
    price = on_tick(raw, side) - tick_for(raw) * extra_ticks
    return min(quote.ask, max(price, quote.bid))
