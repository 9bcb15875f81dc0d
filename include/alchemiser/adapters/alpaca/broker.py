"""The Broker port on alpaca-py's TradingClient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import structlog
from alpaca.common.enums import Sort
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Asset, Calendar, Clock, Order, Position, TradeAccount
from alpaca.trading.requests import (
    GetAssetsRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    ReplaceOrderRequest,
)

from alchemiser.adapters.alpaca.errors import broker_call, classify_rejection
from alchemiser.adapters.alpaca.http import install_timeout
from alchemiser.adapters.alpaca.ratelimit import RateLimiter
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.alpaca.translate import (
    to_account,
    to_asset,
    to_clock,
    to_order_result,
    to_position,
    to_session_hours,
    to_top_of_book,
)
from alchemiser.domain.errors import BrokerError, OrderRejectedError
from alchemiser.domain.market import AccountState, AssetInfo, BrokerPosition, MarketClock
from alchemiser.domain.orders import OrderIntent, OrderResult, TopOfBook
from alchemiser.domain.plan import Side

log = structlog.get_logger(__name__)

HTTP_NOT_FOUND = 404
MAX_ORDERS_PER_LIST = 500
ASSET_LIST_THRESHOLD = 3
"""Above this many symbols one list of all assets is cheaper than one request per symbol."""


class AlpacaBroker:
    """Account, assets, clock and orders through alpaca-py."""

    def __init__(
        self,
        settings: AlpacaSettings,
        trading_limiter: RateLimiter | None = None,
        data_limiter: RateLimiter | None = None,
    ) -> None:
        self._settings = settings
        key, secret = settings.key_id.get_secret_value(), settings.secret_key.get_secret_value()
        self._client = TradingClient(
            api_key=key, secret_key=secret, paper=settings.paper, url_override=settings.base_url
        )
        # Quotes with sizes for the order walk; Alpaca limits the data API separately.
        self._data = StockHistoricalDataClient(
            api_key=key, secret_key=secret, url_override=settings.base_url
        )
        policy = settings.retry_policy
        self.transport = install_timeout(
            self._client, settings.timeout_seconds, trading_limiter or _limiter(settings), policy
        )
        self.data_transport = install_timeout(
            self._data, settings.timeout_seconds, data_limiter or _limiter(settings), policy
        )

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
        wanted = sorted(set(symbols))
        if len(wanted) > ASSET_LIST_THRESHOLD:
            request = GetAssetsRequest(asset_class=AssetClass.US_EQUITY)
            with broker_call("list assets"):
                listed = self._client.get_all_assets(request)
            known = {a.symbol: to_asset(a) for a in listed if isinstance(a, Asset)}
            missing = [s for s in wanted if s not in known]
            if missing:
                raise BrokerError(f"get asset {missing[0]}: unknown to the broker")
            return tuple(known[s] for s in wanted)
        assets = []
        for symbol in wanted:
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
        try:
            with broker_call(
                f"submit {intent.side} {intent.symbol} ({intent.client_order_id})",
                OrderRejectedError,
            ):
                order = self._client.submit_order(request)
        except OrderRejectedError as exc:
            # Classified once, here: the ledger records a final one and never sends it again.
            raise classify_rejection(exc) from exc
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

    def get_orders(
        self, client_order_ids: Sequence[str], since: datetime | None = None
    ) -> tuple[OrderResult, ...]:
        """Return these orders' current states from one list call; a missing one is an error."""
        if not client_order_ids:
            return ()
        found, _ = self._list(client_order_ids, since)
        for missing in sorted(set(client_order_ids) - found.keys()):
            # Outside the list window: ask for it by id rather than report it lost.
            result = self.get_order_by_client_id(missing)
            if result is None:
                raise BrokerError(f"order {missing} is unknown to the broker")
            found[missing] = result
        return tuple(found[c] for c in client_order_ids)

    def find_orders(
        self, client_order_ids: Sequence[str], since: datetime
    ) -> dict[str, OrderResult]:
        """Return those of these orders that exist; by id only when the list was cut short."""
        if not client_order_ids:
            return {}
        found, complete = self._list(client_order_ids, since)
        if not complete:
            for missing in sorted(set(client_order_ids) - found.keys()):
                result = self.get_order_by_client_id(missing)
                if result is not None:
                    found[missing] = result
        return found

    def _list(
        self, client_order_ids: Sequence[str], since: datetime | None
    ) -> tuple[dict[str, OrderResult], bool]:
        wanted = set(client_order_ids)
        request = GetOrdersRequest(
            status=QueryOrderStatus.ALL, limit=MAX_ORDERS_PER_LIST, after=since
        )
        with broker_call("list orders"):
            orders = self._client.get_orders(filter=request)
        found = {
            o.client_order_id: to_order_result(o)
            for o in orders
            if isinstance(o, Order) and o.client_order_id in wanted
        }
        return found, len(orders) < MAX_ORDERS_PER_LIST

    def list_orders(self, since: datetime, prefix: str) -> tuple[OrderResult, ...]:
        """Return every order after `since` with this id prefix, paging oldest first."""
        found: dict[str, OrderResult] = {}
        after = since
        while True:
            request = GetOrdersRequest(
                status=QueryOrderStatus.ALL,
                limit=MAX_ORDERS_PER_LIST,
                after=after,
                direction=Sort.ASC,
            )
            with broker_call("list orders"):
                page = [o for o in self._client.get_orders(filter=request) if isinstance(o, Order)]
            for order in page:
                if order.client_order_id.startswith(prefix):
                    found[order.client_order_id] = to_order_result(order)
            if len(page) < MAX_ORDERS_PER_LIST:
                return tuple(found[c] for c in sorted(found))
            # `after` is exclusive on submission time: resume from the last one seen.
            after = max(o.submitted_at for o in page)

    def replace_order(
        self, broker_order_id: str, client_order_id: str, limit_price: Decimal
    ) -> OrderResult:
        """Replace a limit order's price under a new client order id (the remainder carries)."""
        request = ReplaceOrderRequest(
            limit_price=float(str(limit_price)), client_order_id=client_order_id
        )
        try:
            with broker_call(f"replace order with {client_order_id}", OrderRejectedError):
                order = self._client.replace_order_by_id(broker_order_id, request)
        except OrderRejectedError:
            # A retried PATCH whose first attempt was applied (response lost) finds the old
            # order already replaced: the replacement exists under our id, so adopt it.
            adopted = self.get_order_by_client_id(client_order_id)
            if adopted is None:
                raise
            log.info("replacement adopted after a refused replace", client_order_id=client_order_id)
            return adopted
        assert isinstance(order, Order)
        return to_order_result(order)

    def cancel_order(self, broker_order_id: str) -> None:
        """Request a cancel; a 422 (already terminal) is an OrderRejectedError."""
        with broker_call(f"cancel order {broker_order_id}", OrderRejectedError):
            self._client.cancel_order_by_id(broker_order_id)

    def get_session_hours(self, session: date) -> tuple[datetime, datetime]:
        """Return the session's open and close from the broker's calendar."""
        with broker_call(f"get calendar {session}"):
            days = self._client.get_calendar(GetCalendarRequest(start=session, end=session))
        day = next((d for d in days if isinstance(d, Calendar) and d.date == session), None)
        if day is None:
            raise BrokerError(f"{session} is not a trading session in the broker's calendar")
        return to_session_hours(day)

    def get_top_of_book(self, symbols: Sequence[str]) -> dict[str, TopOfBook]:
        """Return quotes with sizes; a symbol without a usable quote is left out."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        with broker_call("get latest quotes"):
            quotes = self._data.get_stock_latest_quote(
                StockLatestQuoteRequest(symbol_or_symbols=wanted)
            )
        assert isinstance(quotes, dict)
        books = {s: to_top_of_book(s, quotes[s]) for s in wanted if s in quotes}
        return {s: b for s, b in books.items() if b is not None}


def _limiter(settings: AlpacaSettings) -> RateLimiter:
    return RateLimiter(
        per_minute=settings.requests_per_minute, max_429_retries=settings.max_429_retries
    )


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
