"""SDK models in, our DTOs out. Every number goes through str() into Decimal, never float math."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from alpaca.data.models import Bar as SdkBar
from alpaca.data.models import Quote as SdkQuote
from alpaca.trading.models import Asset, Calendar, Clock, Order, Position, TradeAccount
from pydantic import ValidationError

from alchemiser.domain.errors import BrokerError, MarketDataError
from alchemiser.domain.market import (
    AccountState,
    AssetInfo,
    Bar,
    BrokerPosition,
    MarketClock,
    Quote,
)
from alchemiser.domain.orders import OrderResult, OrderStatus, TopOfBook
from alchemiser.domain.plan import Side
from alchemiser.domain.sessions import NEW_YORK


def decimal(value: Any, field: str) -> Decimal:
    """Return `value` as a finite Decimal, or raise naming the field."""
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise BrokerError(f"{field}: {value!r} is not a number") from exc
    if not result.is_finite():
        raise BrokerError(f"{field}: {value!r} is not finite")
    return result


def optional_decimal(value: Any, field: str) -> Decimal | None:
    """Return None for a missing value, else `decimal(value)`."""
    return None if value is None else decimal(value, field)


def to_order_result(order: Order) -> OrderResult:
    """Translate an SDK order."""
    where = f"order {order.client_order_id}"
    side = order.side.value if order.side is not None else ""
    try:
        filled_price = optional_decimal(order.filled_avg_price, f"{where}.filled_avg_price")
        return OrderResult(
            client_order_id=order.client_order_id,
            broker_order_id=str(order.id),
            symbol=order.symbol or "",
            side=Side(side),
            status=OrderStatus(order.status.value),
            qty=optional_decimal(order.qty, f"{where}.qty"),
            notional=optional_decimal(order.notional, f"{where}.notional"),
            filled_qty=decimal(order.filled_qty or 0, f"{where}.filled_qty"),
            filled_avg_price=filled_price if filled_price else None,
            limit_price=optional_decimal(order.limit_price, f"{where}.limit_price"),
            submitted_at=order.submitted_at,
            filled_at=order.filled_at,
        )
    except (ValidationError, ValueError) as exc:
        raise BrokerError(f"{where}: cannot be understood: {exc}") from exc


def to_account(account: TradeAccount) -> AccountState:
    """Translate the SDK account."""
    try:
        return AccountState(
            account_id=str(account.id),
            account_number=account.account_number,
            status=account.status.value,
            cash=decimal(account.cash, "account.cash"),
            buying_power=max(Decimal(0), decimal(account.buying_power, "account.buying_power")),
            non_marginable_buying_power=max(
                Decimal(0),
                decimal(account.non_marginable_buying_power, "account.non_marginable_buying_power"),
            ),
            equity=decimal(account.equity, "account.equity"),
        )
    except ValidationError as exc:
        raise BrokerError(f"account cannot be understood: {exc}") from exc


def to_position(position: Position) -> BrokerPosition:
    """Translate an SDK position (long positions only: this system never shorts)."""
    qty = decimal(position.qty, f"position {position.symbol}.qty")
    if qty < 0:
        raise BrokerError(f"position {position.symbol}: short qty {qty}; this system never shorts")
    try:
        return BrokerPosition(
            symbol=position.symbol,
            qty=qty,
            current_price=decimal(position.current_price, f"position {position.symbol}.price"),
        )
    except ValidationError as exc:
        raise BrokerError(f"position {position.symbol} cannot be understood: {exc}") from exc


def to_asset(asset: Asset) -> AssetInfo:
    """Translate an SDK asset."""
    return AssetInfo(symbol=asset.symbol, tradable=asset.tradable, fractionable=asset.fractionable)


def to_clock(clock: Clock) -> MarketClock:
    """Translate the SDK clock."""
    return MarketClock(
        timestamp=clock.timestamp,
        is_open=clock.is_open,
        next_open=clock.next_open,
        next_close=clock.next_close,
    )


def to_quote(symbol: str, quote: SdkQuote) -> Quote:
    """Translate an SDK quote; zero, missing or crossed sides are a MarketDataError."""
    try:
        return Quote(
            symbol=symbol,
            bid=Decimal(str(quote.bid_price)),
            ask=Decimal(str(quote.ask_price)),
            timestamp=quote.timestamp,
        )
    except (ValidationError, InvalidOperation) as exc:
        raise MarketDataError(
            f"{symbol}: unusable quote (bid {quote.bid_price}, ask {quote.ask_price})"
        ) from exc


def to_bar(symbol: str, bar: SdkBar) -> Bar:
    """Translate an SDK daily bar, dating it by its New York session."""
    try:
        return Bar(
            session=bar.timestamp.astimezone(NEW_YORK).date(),
            open=Decimal(str(bar.open)),
            high=Decimal(str(bar.high)),
            low=Decimal(str(bar.low)),
            close=Decimal(str(bar.close)),
            volume=Decimal(str(bar.volume)),
        )
    except (ValidationError, InvalidOperation) as exc:
        raise MarketDataError(f"{symbol}: unusable bar at {bar.timestamp}: {exc}") from exc


def to_session_hours(day: Calendar) -> tuple[datetime, datetime]:
    """Return a calendar day's open and close as aware New York times."""
    return day.open.replace(tzinfo=NEW_YORK), day.close.replace(tzinfo=NEW_YORK)


def to_top_of_book(symbol: str, quote: SdkQuote) -> TopOfBook | None:
    """Translate a quote with its sizes; None when a side is zero, missing or crossed."""
    try:
        return TopOfBook(
            quote=to_quote(symbol, quote),
            bid_size=Decimal(str(quote.bid_size or 0)),
            ask_size=Decimal(str(quote.ask_size or 0)),
        )
    except (MarketDataError, ValidationError, InvalidOperation):
        return None
