"""alpaca-py's clients typed as the models they return when `raw_data` is off (the default).

alpaca-py annotates every call as `Model | RawData`; tests read the model's fields, so these
subclasses narrow the return type once (failing loudly on raw data) instead of at every use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from alpaca.common import RawData
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import BarSet, Quote, Trade
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest, StockLatestTradeRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import (
    Asset,
    Calendar,
    Clock,
    Order,
    Position,
    TradeAccount,
)
from alpaca.trading.requests import (
    CancelOrderResponse,
    ClosePositionRequest,
    GetCalendarRequest,
    GetOrderByIdRequest,
    GetOrdersRequest,
    OrderRequest,
    ReplaceOrderRequest,
)

M = TypeVar("M")


def _model(kind: type[M], value: M | RawData) -> M:
    if not isinstance(value, kind):
        raise TypeError(f"alpaca-py returned raw data {value!r}, expected {kind.__name__}")
    return value


def _models(kind: type[M], value: list[M] | RawData) -> list[M]:
    if not isinstance(value, list):
        raise TypeError(f"alpaca-py returned raw data {value!r}, expected a list of {kind}")
    return [_model(kind, v) for v in value]


def decimal_of(value: str | float | None) -> Decimal:
    """Return a numeric field alpaca-py types as optional, failing when the venue left it out."""
    if value is None:
        raise AssertionError("the field is missing")
    return Decimal(value)


def _by_symbol(kind: type[M], value: dict[str, M] | RawData) -> dict[str, M]:
    return {symbol: _model(kind, v) for symbol, v in value.items()}


class ModelTradingClient(TradingClient):
    """TradingClient whose calls are typed as the models they return."""

    def submit_order(self, order_data: OrderRequest) -> Order:
        return _model(Order, super().submit_order(order_data))

    def get_orders(self, filter: GetOrdersRequest | None = None) -> list[Order]:
        return _models(Order, super().get_orders(filter))

    def get_order_by_id(
        self,
        order_id: UUID | str,
        filter: GetOrderByIdRequest | None = None,
    ) -> Order:
        return _model(Order, super().get_order_by_id(order_id, filter))

    def get_order_by_client_id(self, client_id: str) -> Order:
        return _model(Order, super().get_order_by_client_id(client_id))

    def replace_order_by_id(
        self, order_id: UUID | str, order_data: ReplaceOrderRequest | None = None
    ) -> Order:
        return _model(Order, super().replace_order_by_id(order_id, order_data))

    def cancel_orders(self) -> list[CancelOrderResponse]:
        return _models(CancelOrderResponse, super().cancel_orders())

    def get_all_positions(self) -> list[Position]:
        return _models(Position, super().get_all_positions())

    def get_open_position(self, symbol_or_asset_id: UUID | str) -> Position:
        return _model(Position, super().get_open_position(symbol_or_asset_id))

    def close_position(
        self, symbol_or_asset_id: UUID | str, close_options: ClosePositionRequest | None = None
    ) -> Order:
        return _model(Order, super().close_position(symbol_or_asset_id, close_options))

    def get_asset(self, symbol_or_asset_id: UUID | str) -> Asset:
        return _model(Asset, super().get_asset(symbol_or_asset_id))

    def get_clock(self) -> Clock:
        return _model(Clock, super().get_clock())

    def get_calendar(self, filters: GetCalendarRequest | None = None) -> list[Calendar]:
        return _models(Calendar, super().get_calendar(filters))

    def get_account(self) -> TradeAccount:
        return _model(TradeAccount, super().get_account())


class ModelDataClient(StockHistoricalDataClient):
    """StockHistoricalDataClient whose calls are typed as the models they return."""

    def get_stock_bars(self, request_params: StockBarsRequest) -> BarSet:
        return _model(BarSet, super().get_stock_bars(request_params))

    def get_stock_latest_quote(self, request_params: StockLatestQuoteRequest) -> dict[str, Quote]:
        return _by_symbol(Quote, super().get_stock_latest_quote(request_params))

    def get_stock_latest_trade(self, request_params: StockLatestTradeRequest) -> dict[str, Trade]:
        return _by_symbol(Trade, super().get_stock_latest_trade(request_params))
