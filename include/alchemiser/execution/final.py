"""A walk's final order: a limit through a fresh far touch by the collar, or market on opt-in."""

from __future__ import annotations

from alchemiser.domain.market import Quote
from alchemiser.domain.orders import OrderIntent
from alchemiser.execution.pricing import collared_price
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk


def final_intent(
    walk: Walk, client_order_id: str, quote: Quote, settings: ExecutionSettings, run_id: str
) -> OrderIntent:
    """Return the final order for the walk's remainder, priced from `quote`."""
    collared = settings.final_order == "collared_limit"
    collar = settings.collar_bps_for(walk.symbol)
    return OrderIntent(
        client_order_id=client_order_id,
        run_id=run_id,
        symbol=walk.symbol,
        side=walk.side,
        qty=walk.remaining_qty,
        order_type="limit" if collared else "market",
        limit_price=collared_price(quote, walk.side, collar) if collared else None,
    )
