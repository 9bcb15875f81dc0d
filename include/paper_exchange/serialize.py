"""JSON shapes of Alpaca's trading and market-data responses.

Trading endpoints encode money and quantities as strings (alpaca-py rejects numbers there);
market-data endpoints encode prices as JSON numbers, as Alpaca does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paper_exchange.calendar import NEW_YORK, MarketCalendar
from paper_exchange.config import AssetSpec
from paper_exchange.engine import asset_id
from paper_exchange.orders import Order
from paper_exchange.portfolio import AccountView, PositionView
from paper_exchange.prices import DailyBar, Quote

Json = dict[str, Any]
CENT = Decimal("0.01")
ACCOUNT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "alchemiser-exchange/account"))
ACCOUNT_NUMBER = "PA0000EXCH01"
ACCOUNT_CREATED = "2020-01-02T14:30:00Z"


def dec(value: Decimal | None) -> str | None:
    """Format a Decimal as a plain string (no exponent), keeping None."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def money(value: Decimal) -> str:
    """Format an amount of dollars to cents."""
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def rfc3339(moment: datetime | None) -> str | None:
    """Format a UTC timestamp the way Alpaca does (Z suffix)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def order_json(order: Order) -> Json:
    """Return the order shape alpaca-py's Order model parses."""
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": rfc3339(order.created_at),
        "updated_at": rfc3339(order.updated_at),
        "submitted_at": rfc3339(order.submitted_at),
        "filled_at": rfc3339(order.filled_at),
        "expired_at": None,
        "canceled_at": rfc3339(order.canceled_at),
        "failed_at": None,
        "replaced_at": rfc3339(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": dec(order.notional),
        "qty": dec(order.qty),
        "filled_qty": dec(order.filled_qty),
        "filled_avg_price": dec(order.filled_avg_price),
        "order_class": "simple",
        "order_type": order.kind,
        "type": order.kind,
        "side": order.side,
        "position_intent": "buy_to_open" if order.side == "buy" else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": dec(order.limit_price),
        "stop_price": None,
        "status": order.status,
        "extended_hours": order.extended_hours,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "subtag": None,
        "source": None,
        "expires_at": None,
    }


def position_json(view: PositionView) -> Json:
    """Return the position shape alpaca-py's Position model parses."""
    market_value = view.qty * view.current_price
    cost_basis = view.qty * view.avg_entry_price
    lastday_value = view.qty * view.lastday_price
    pl = market_value - cost_basis
    intraday_pl = market_value - lastday_value
    return {
        "asset_id": asset_id(view.symbol),
        "symbol": view.symbol,
        "exchange": view.exchange,
        "asset_class": "us_equity",
        "asset_marginable": True,
        "qty": dec(view.qty),
        "qty_available": dec(view.qty_available),
        "avg_entry_price": dec(view.avg_entry_price),
        "side": "long",
        "market_value": money(market_value),
        "cost_basis": money(cost_basis),
        "unrealized_pl": money(pl),
        "unrealized_plpc": _ratio(pl, cost_basis),
        "unrealized_intraday_pl": money(intraday_pl),
        "unrealized_intraday_plpc": _ratio(intraday_pl, lastday_value),
        "current_price": dec(view.current_price),
        "lastday_price": dec(view.lastday_price),
        "change_today": _ratio(view.current_price - view.lastday_price, view.lastday_price),
    }


def _ratio(numerator: Decimal, denominator: Decimal) -> str:
    if denominator == 0:
        return "0"
    return dec((numerator / denominator).quantize(Decimal("0.0000000001"))) or "0"


def account_json(view: AccountView) -> Json:
    """Return the account shape alpaca-py's TradeAccount model parses (no leverage)."""
    equity = view.cash + view.long_market_value
    bp = money(view.buying_power)
    return {
        "id": ACCOUNT_ID,
        "account_number": ACCOUNT_NUMBER,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": bp,
        "regt_buying_power": bp,
        "daytrading_buying_power": "0",
        "effective_buying_power": bp,
        "non_marginable_buying_power": bp,
        "options_buying_power": bp,
        "bod_dtbp": "0",
        "cash": money(view.cash),
        "cash_withdrawable": money(view.cash - view.unsettled_cash),
        "unsettled_cash": money(view.unsettled_cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": money(equity),
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "created_at": ACCOUNT_CREATED,
        "trade_suspended_by_user": False,
        "multiplier": "1",
        "shorting_enabled": False,
        "equity": money(equity),
        "last_equity": money(view.last_equity),
        "long_market_value": money(view.long_market_value),
        "short_market_value": "0",
        "position_market_value": money(view.long_market_value),
        "initial_margin": money(view.long_market_value),
        "maintenance_margin": money(view.long_market_value * Decimal("0.25")),
        "last_maintenance_margin": "0",
        "sma": "0",
        "daytrade_count": 0,
        "options_approved_level": 0,
        "options_trading_level": 0,
    }


def asset_json(spec: AssetSpec) -> Json:
    """Return the asset shape alpaca-py's Asset model parses (note the ``class`` key)."""
    return {
        "id": asset_id(spec.symbol),
        "class": "us_equity",
        "exchange": spec.exchange,
        "symbol": spec.symbol,
        "name": spec.symbol,
        "status": "active" if spec.tradable else "inactive",
        "tradable": spec.tradable,
        "marginable": spec.tradable,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": spec.fractionable,
        "maintenance_margin_requirement": 100,
        "attributes": [],
    }


def clock_json(now: datetime, is_open: bool, next_open: datetime, next_close: datetime) -> Json:
    """Return the market clock with New York offsets, as Alpaca reports it."""
    return {
        "timestamp": now.astimezone(NEW_YORK).isoformat(),
        "is_open": is_open,
        "next_open": next_open.astimezone(NEW_YORK).isoformat(),
        "next_close": next_close.astimezone(NEW_YORK).isoformat(),
    }


def calendar_json(calendar: MarketCalendar, sessions: list[date]) -> list[Json]:
    """Return calendar days with local HH:MM open and close (early closes included)."""
    days: list[Json] = []
    for day in sessions:
        open_at, close_at = calendar.open_close(day)
        days.append(
            {
                "date": day.isoformat(),
                "open": open_at.astimezone(NEW_YORK).strftime("%H:%M"),
                "close": close_at.astimezone(NEW_YORK).strftime("%H:%M"),
                "session_open": "0400",
                "session_close": "2000",
                "settlement_date": calendar.next_session(day).isoformat(),
            }
        )
    return days


def bar_json(bar: DailyBar) -> Json:
    """Return one bar with Alpaca's short keys (n and vw always present)."""
    return {
        "t": rfc3339(bar.timestamp),
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": bar.volume,
        "n": bar.trade_count,
        "vw": float(bar.vwap),
    }


def tape(exchange: str) -> str:
    """Return the SIP tape of a listing exchange."""
    return {"NASDAQ": "C", "NYSE": "A"}.get(exchange, "B")


def quote_json(quote: Quote, exchange: str) -> Json:
    """Return a latest quote with Alpaca's short keys."""
    return {
        "t": rfc3339(quote.timestamp),
        "ax": "V",
        "ap": float(quote.ask),
        "as": quote.ask_size,
        "bx": "V",
        "bp": float(quote.bid),
        "bs": quote.bid_size,
        "c": ["R"],
        "z": tape(exchange),
    }


def trade_json(quote: Quote, exchange: str) -> Json:
    """Return a latest trade printed at the quote's midpoint."""
    minute = int(quote.timestamp.timestamp() // 60)
    return {
        "t": rfc3339(quote.timestamp),
        "x": "V",
        "p": float(quote.mid.quantize(Decimal("0.0001"))),
        "s": min(quote.bid_size, quote.ask_size),
        "i": minute,
        "c": ["@"],
        "z": tape(exchange),
    }
