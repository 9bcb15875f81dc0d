"""What an account can afford: buying power after open buys, shares free of open sells.

A new order is checked against these before it is accepted, as Alpaca does: a buy needs the
buying power its cost holds back, a sell the shares no open sell holds already.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from paper_exchange.errors import forbidden, known
from paper_exchange.orders import QTY_QUANTUM, Order, OrderRequest
from paper_exchange.portfolio import Portfolio
from paper_exchange.prices import Quote

MARKET_BUY_BUFFER = Decimal("1.01")  # market buys reserve the ask plus 1% for slippage


def reserved(order: Order) -> Decimal:
    """Return the buying power an open buy holds back."""
    if not order.is_open or order.side != "buy":
        return Decimal(0)
    remaining = order.remaining_qty
    if remaining is None:
        return known(order.notional, "notional")
    price = order.limit_price if order.limit_price is not None else order.reserve_price
    return remaining * known(price, "limit or reserve price")


def buying_power(portfolio: Portfolio, orders: Iterable[Order]) -> Decimal:
    """Return the cash a new buy may use: usable cash less what open buys hold back."""
    held = sum((reserved(o) for o in orders), Decimal(0))
    return max(Decimal(0), portfolio.usable_cash - held)


def held_for_orders(orders: Iterable[Order], symbol: str) -> Decimal:
    """Return the shares of `symbol` open sells hold."""
    held = Decimal(0)
    for o in orders:
        if o.is_open and o.side == "sell" and o.symbol == symbol:
            remaining = o.remaining_qty
            held += remaining if remaining is not None else (o.held_qty or Decimal(0))
    return held


def check_funds(
    req: OrderRequest, quote: Quote, portfolio: Portfolio, orders: Iterable[Order]
) -> tuple[Decimal | None, Decimal | None]:
    """Refuse (403) an order the account cannot pay or deliver; return what it will hold.

    Returns (reserve price of a market buy, shares a notional sell holds), each None when the
    order is not of that kind.
    """
    if req.side == "buy":
        reserve_price = None
        if req.notional is not None:
            cost = req.notional
        elif req.limit_price is not None:
            cost = req.qty * req.limit_price if req.qty is not None else Decimal(0)
        else:
            reserve_price = quote.ask * MARKET_BUY_BUFFER
            cost = (req.qty or Decimal(0)) * reserve_price
        if cost > buying_power(portfolio, orders):
            raise forbidden("insufficient buying power")
        return reserve_price, None
    held_qty = None
    requested = req.qty
    if requested is None:
        held_qty = (known(req.notional, "notional") / quote.bid).quantize(
            QTY_QUANTUM, rounding=ROUND_DOWN
        )
        requested = held_qty
    available = portfolio.qty(req.symbol) - held_for_orders(orders, req.symbol)
    if requested > available:
        raise forbidden(
            f"insufficient qty available for order (requested: {_fmt(requested)}, "
            f"available: {_fmt(max(available, Decimal(0)))})"
        )
    return None, held_qty


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")
