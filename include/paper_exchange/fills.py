"""The fill model: whether an open order fills when it is looked at, at what price, how much.

A limit order fills only when marketable (else it is looked at again next simulated minute);
an order fills in `partial_fills` chunks, one per fill delay, at the touch of the moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from paper_exchange.config import ExchangeConfig
from paper_exchange.errors import known
from paper_exchange.orders import QTY_QUANTUM, Order, limit_fill
from paper_exchange.portfolio import Portfolio
from paper_exchange.prices import Quote


def fill(
    order: Order,
    quote: Quote,
    portfolio: Portfolio,
    config: ExchangeConfig,
    *,
    due: datetime,
    sim: datetime,
    minute_start: datetime,
) -> None:
    """Fill the next chunk of an order due at `due` (`sim` in the session) against `quote`."""
    price = quote.ask if order.side == "buy" else quote.bid
    if order.limit_price is not None:
        marketable, price = limit_fill(order, quote, price, config.limit_fill_fraction)
        if not marketable:
            # The quote changes once per simulated minute: retry at the next minute.
            into_minute = (sim - minute_start).total_seconds() % 60
            order.next_eval_at = due + timedelta(seconds=60 - into_minute)
            return
    if order.target_qty is None:
        notional = known(order.notional, "notional")
        order.target_qty = (notional / price).quantize(QTY_QUANTUM, rounding=ROUND_DOWN)
        if order.side == "sell":
            order.target_qty = min(order.target_qty, portfolio.qty(order.symbol))
        order.held_qty = None
    chunk = chunk_qty(order, config.partial_fills)
    if chunk > 0:
        if order.side == "buy":
            portfolio.buy(order.symbol, chunk, price)
        else:
            portfolio.sell(order.symbol, chunk, price, due)
        order.filled_qty += chunk
        order.filled_cost += chunk * price
    order.chunks_done += 1
    order.updated_at = sim
    if order.remaining_qty == 0 or chunk == 0:
        order.status = "filled"
        order.filled_at = sim
        order.next_eval_at = None
    else:
        order.status = "partially_filled"
        order.next_eval_at = due + timedelta(seconds=config.fill_delay_seconds)


def chunk_qty(order: Order, partial_fills: int) -> Decimal:
    """Return the quantity of the order's next fill: an equal share, the rest on the last."""
    target = known(order.target_qty, "target quantity")
    remaining = known(order.remaining_qty, "remaining quantity")
    left = partial_fills - order.chunks_done
    if left <= 1:
        return remaining
    if target == target.to_integral_value() and target >= partial_fills:
        base = (target / partial_fills).to_integral_value(rounding=ROUND_DOWN)
    else:
        base = (target / partial_fills).quantize(QTY_QUANTUM, rounding=ROUND_DOWN)
    return min(base, remaining) if base > 0 else remaining
