"""The Broker port on alpaca-py's TradingClient."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Asset, Clock, Order, Position, TradeAccount
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
)

from alchemiser.adapters.alpaca.errors import broker_call
from alchemiser.adapters.alpaca.http import install_timeout
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.alpaca.translate import (
    to_account,
    to_asset,
    to_clock,
    to_order_result,
    to_position,
)
from alchemiser.domain.errors import BrokerError, OrderRejectedError
from alchemiser.domain.market import AccountState, AssetInfo, BrokerPosition, MarketClock
from alchemiser.domain.orders import OrderIntent, OrderResult
from alchemiser.domain.plan import Side

log = structlog.get_logger(__name__)

HTTP_NOT_FOUND = 404
MAX_ORDERS_PER_LIST = 500


class AlpacaBroker:
    """Account, assets, clock and orders through alpaca-py."""

    def __init__(self, settings: AlpacaSettings) -> None:
        self._settings = settings
        self._client = TradingClient(
            api_key=settings.key_id.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            paper=settings.paper,
            url_override=settings.base_url,
        )
        install_timeout(self._client, settings.timeout_seconds)

    @property
    def venue(self) -> str:
        """Return where orders go, without credentials."""
        return self._settings.venue

    def get_account(self) -> AccountState:
        """Return balances."""
        with broker_call("get account"):
            account = self._client.get_account()
        assert isinstance(account, TradeAccount)  # raw_data is off: the SDK returns models
        return to_account(account)

    def get_positions(self) -> tuple[BrokerPosition, ...]:
        """Return open positions, sorted by symbol."""
        with broker_call("list positions"):
            positions = self._client.get_all_positions()
        return tuple(
            sorted(
                (to_position(p) for p in positions if isinstance(p, Position)),
                key=lambda p: p.symbol,
            )
        )

    def get_assets(self, symbols: Sequence[str]) -> tuple[AssetInfo, ...]:
        """Return venue facts per symbol; an unknown symbol is a BrokerError naming it."""
        assets = []
        for symbol in sorted(set(symbols)):
            with broker_call(f"get asset {symbol}"):
                asset = self._client.get_asset(symbol)
            assert isinstance(asset, Asset)
            assets.append(to_asset(asset))
        return tuple(assets)

    def get_clock(self) -> MarketClock:
        """Return the venue's clock."""
        with broker_call("get clock"):
            clock = self._client.get_clock()
        assert isinstance(clock, Clock)
        return to_clock(clock)

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Place the order; a rejection raises OrderRejectedError with Alpaca's code."""
        request = _order_request(intent)
        with broker_call(
            f"submit {intent.side} {intent.symbol} ({intent.client_order_id})", OrderRejectedError
        ):
            order = self._client.submit_order(request)
        assert isinstance(order, Order)
        result = to_order_result(order)
        log.info(
            "order submitted",
            run_id=intent.run_id,
            client_order_id=result.client_order_id,
            broker_order_id=result.broker_order_id,
            symbol=result.symbol,
            side=result.side.value,
            status=result.status.value,
        )
        return result

    def get_order_by_client_id(self, client_order_id: str) -> OrderResult | None:
        """Return the order with this client order id, or None when the broker has none."""
        try:
            with broker_call(f"get order {client_order_id}"):
                order = self._client.get_order_by_client_id(client_order_id)
        except BrokerError as exc:
            if exc.status == HTTP_NOT_FOUND:
                return None
            raise
        assert isinstance(order, Order)
        return to_order_result(order)

    def get_orders(self, client_order_ids: Sequence[str]) -> tuple[OrderResult, ...]:
        """Return these orders' current states from one list call; a missing one is an error."""
        wanted = set(client_order_ids)
        if not wanted:
            return ()
        request = GetOrdersRequest(status=QueryOrderStatus.ALL, limit=MAX_ORDERS_PER_LIST)
        with broker_call("list orders"):
            orders = self._client.get_orders(filter=request)
        found = {
            o.client_order_id: to_order_result(o)
            for o in orders
            if isinstance(o, Order) and o.client_order_id in wanted
        }
        for missing in sorted(wanted - found.keys()):
            # Older than the list window: ask for it by id rather than report it lost.
            result = self.get_order_by_client_id(missing)
            if result is None:
                raise BrokerError(f"order {missing} is unknown to the broker")
            found[missing] = result
        return tuple(found[c] for c in client_order_ids)


def _order_request(intent: OrderIntent) -> OrderRequest:
    side = OrderSide.BUY if intent.side is Side.BUY else OrderSide.SELL
    common = {
        "symbol": intent.symbol,
        "side": side,
        "time_in_force": TimeInForce.DAY,
        "client_order_id": intent.client_order_id,
    }
    # alpaca-py sends qty/notional/limit_price as JSON numbers; str() keeps every digit we chose.
    if intent.order_type == "limit":
        return LimitOrderRequest(
            qty=float(str(intent.qty)), limit_price=float(str(intent.limit_price)), **common
        )
    if intent.notional is not None:
        return MarketOrderRequest(notional=float(str(intent.notional)), **common)
    return MarketOrderRequest(qty=float(str(intent.qty)), **common)
