"""Trading endpoints driven through alpaca-py's real ModelTradingClient."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from paper_exchange import PaperExchange
from tests.exchange.clients import ModelTradingClient, decimal_of
from tests.exchange.conftest import (
    EARLY_CLOSE_SESSION,
    SESSION,
    FakeClock,
    StartExchange,
    make_config,
)


def market(symbol: str, qty: float, side: OrderSide, **kw: object) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, **kw
    )


def limit(
    symbol: str, qty: float, side: OrderSide, price: float, **kw: object
) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, limit_price=price, **kw
    )


def current_quote(exchange: PaperExchange, symbol: str):  # type: ignore[no-untyped-def]
    return exchange.engine.quote(symbol, exchange.engine.sim_now())


def test_clock_reports_open_session_an_hour_after_open(trading: ModelTradingClient) -> None:
    clock = trading.get_clock()
    assert clock.is_open is True
    assert clock.timestamp.date() == SESSION
    assert (clock.timestamp.hour, clock.timestamp.minute) == (10, 30)
    assert (clock.next_close.hour, clock.next_close.minute) == (16, 0)
    assert clock.next_open.date() == SESSION + timedelta(days=1)


def test_clock_on_early_close_session_still_open_at_start(start_exchange: StartExchange) -> None:
    exchange = start_exchange(make_config(session=EARLY_CLOSE_SESSION, minutes_after_open=500))
    clock = ModelTradingClient("k", "s", url_override=exchange.url).get_clock()
    assert clock.is_open is True
    assert (clock.next_close.hour, clock.next_close.minute) == (13, 0)


def test_calendar_lists_sessions_with_early_close(trading: ModelTradingClient) -> None:
    days = trading.get_calendar(GetCalendarRequest(start="2025-11-26", end="2025-12-01"))
    assert [d.date.isoformat() for d in days] == ["2025-11-26", "2025-11-28", "2025-12-01"]
    assert days[1].close.strftime("%H:%M") == "13:00"
    assert days[0].open.strftime("%H:%M") == "09:30"


def test_account_starts_with_seed_cash_and_no_leverage(trading: ModelTradingClient) -> None:
    account = trading.get_account()
    assert account.status == "ACTIVE"
    assert account.cash == "100000.00"
    assert account.buying_power == account.non_marginable_buying_power == "100000.00"
    assert account.multiplier == "1"
    assert decimal_of(account.equity) == decimal_of(account.cash) + decimal_of(
        account.long_market_value
    )


def test_assets_include_flags_and_untradable_symbol(trading: ModelTradingClient) -> None:
    assert trading.get_asset("UVXY").fractionable is False
    assert trading.get_asset("DELIST").tradable is False
    with pytest.raises(APIError) as err:
        trading.get_asset("NOPE")
    assert err.value.status_code == 404


def test_seed_position_is_marked_at_the_anchor(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    position = trading.get_open_position("SPY")
    assert position.qty == "10"
    assert position.qty_available == "10"
    assert Decimal(position.avg_entry_price) == exchange.engine.prices.anchor("SPY")
    assert position.exchange == "ARCA"
    assert [p.symbol for p in trading.get_all_positions()] == ["SPY"]


def test_unknown_position_is_404_with_alpaca_code(trading: ModelTradingClient) -> None:
    with pytest.raises(APIError) as err:
        trading.get_open_position("AAPL")
    assert (err.value.status_code, err.value.code) == (404, 40410000)


def test_market_buy_fills_at_ask_after_fill_delay(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    ask = current_quote(exchange, "AAPL").ask
    order = trading.submit_order(market("AAPL", 2, OrderSide.BUY))
    assert order.status == OrderStatus.NEW
    clock.advance(0.25)
    filled = trading.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert decimal_of(filled.filled_avg_price) == ask
    assert filled.filled_qty == "2"
    assert trading.get_open_position("AAPL").qty == "2"
    assert decimal_of(trading.get_account().cash) == Decimal(100000) - 2 * ask


def test_market_sell_fills_at_bid(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    bid = current_quote(exchange, "SPY").bid
    order = trading.submit_order(market("SPY", 4, OrderSide.SELL))
    clock.advance(1)
    filled = trading.get_order_by_id(order.id)
    assert decimal_of(filled.filled_avg_price) == bid
    assert trading.get_open_position("SPY").qty == "6"


def test_notional_buy_sizes_qty_to_nine_decimals(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    ask = current_quote(exchange, "MSFT").ask
    order = trading.submit_order(
        MarketOrderRequest(symbol="MSFT", notional=250, side=OrderSide.BUY, time_in_force="day")
    )
    assert order.qty is None
    assert order.notional == "250"
    clock.advance(1)
    filled = trading.get_order_by_id(order.id)
    expected = (Decimal(250) / ask).quantize(Decimal("0.000000001"), rounding="ROUND_DOWN")
    assert decimal_of(filled.filled_qty) == expected


def test_limit_buy_below_ask_rests_then_fills_when_quote_crosses(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    engine = exchange.engine
    start = engine.sim_now()
    ask_now = engine.quote("QQQ", start).ask
    future = [(m, engine.quote("QQQ", start + timedelta(minutes=m)).ask) for m in range(1, 90)]
    minute, best_ask = min(future, key=lambda item: item[1])
    assert best_ask < ask_now  # the path is noisy enough to dip below the current ask
    order = trading.submit_order(limit("QQQ", 3, OrderSide.BUY, float(best_ask)))
    clock.advance(30)
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    clock.advance(minute * 60)
    filled = trading.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert decimal_of(filled.filled_avg_price) == best_ask


def test_marketable_limit_fills_at_the_better_quote(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    ask = current_quote(exchange, "NVDA").ask
    order = trading.submit_order(limit("NVDA", 1, OrderSide.BUY, float(ask + 5)))
    clock.advance(1)
    assert decimal_of(trading.get_order_by_id(order.id).filled_avg_price) == ask


def test_partial_fills_arrive_in_chunks_with_weighted_average(
    start_exchange: StartExchange, clock: FakeClock
) -> None:
    exchange = start_exchange(make_config(partial_fills=3))
    trading = ModelTradingClient("k", "s", url_override=exchange.url)
    order = trading.submit_order(market("IWM", 9, OrderSide.BUY))
    seen = []
    for _ in range(3):
        clock.advance(0.2)
        current = trading.get_order_by_id(order.id)
        seen.append((current.status, current.filled_qty))
    assert seen == [
        (OrderStatus.PARTIALLY_FILLED, "3"),
        (OrderStatus.PARTIALLY_FILLED, "6"),
        (OrderStatus.FILLED, "9"),
    ]
    fills = next(o for o in exchange.engine.orders() if o.id == str(order.id))
    assert decimal_of(current.filled_avg_price) == (fills.filled_cost / 9).quantize(
        Decimal("0.000000001")
    )


def test_replace_creates_new_order_and_marks_old_replaced(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    bid = current_quote(exchange, "TLT").bid
    old = trading.submit_order(limit("TLT", 5, OrderSide.BUY, float(bid - 2)))
    new = trading.replace_order_by_id(
        old.id, ReplaceOrderRequest(qty=7, limit_price=float(bid - 1))
    )
    assert new.id != old.id
    assert new.replaces == old.id
    assert new.qty == "7"
    assert decimal_of(new.limit_price) == bid - 1
    previous = trading.get_order_by_id(old.id)
    assert previous.status == OrderStatus.REPLACED
    assert previous.replaced_by == new.id


def test_replace_of_filled_order_is_422(trading: ModelTradingClient, clock: FakeClock) -> None:
    order = trading.submit_order(market("GLD", 1, OrderSide.BUY))
    clock.advance(1)
    with pytest.raises(APIError) as err:
        trading.replace_order_by_id(order.id, ReplaceOrderRequest(qty=2))
    assert err.value.status_code == 422


def test_cancel_open_order_then_cancel_again_is_422(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    bid = current_quote(exchange, "XLE").bid
    order = trading.submit_order(limit("XLE", 1, OrderSide.BUY, float(bid - 3)))
    trading.cancel_order_by_id(order.id)
    assert trading.get_order_by_id(order.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError) as err:
        trading.cancel_order_by_id(order.id)
    assert (err.value.status_code, err.value.code) == (422, 42210000)


def test_cancel_all_returns_207_entries_for_open_orders(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    ids = set()
    for symbol in ("XLF", "XLK"):
        bid = current_quote(exchange, symbol).bid
        ids.add(trading.submit_order(limit(symbol, 1, OrderSide.BUY, float(bid - 1))).id)
    responses = trading.cancel_orders()
    assert {r.id for r in responses} == ids
    assert {r.status for r in responses} == {200}
    assert trading.get_orders() == []


def test_order_found_by_client_order_id_and_unknown_is_404(trading: ModelTradingClient) -> None:
    order = trading.submit_order(market("AMZN", 1, OrderSide.BUY, client_order_id="run-1-AMZN"))
    assert trading.get_order_by_client_id("run-1-AMZN").id == order.id
    with pytest.raises(APIError) as err:
        trading.get_order_by_client_id("never-sent")
    assert err.value.status_code == 404


def test_order_without_client_id_gets_generated_one(trading: ModelTradingClient) -> None:
    order = trading.submit_order(market("AMZN", 1, OrderSide.BUY))
    assert order.client_order_id


def test_list_orders_filters_by_status_symbol_and_direction(
    trading: ModelTradingClient, exchange: PaperExchange, clock: FakeClock
) -> None:
    filled = trading.submit_order(market("META", 1, OrderSide.BUY))
    clock.advance(1)
    bid = current_quote(exchange, "TSLA").bid
    resting = trading.submit_order(limit("TSLA", 1, OrderSide.BUY, float(bid - 5)))
    assert [o.id for o in trading.get_orders()] == [resting.id]
    closed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert [o.id for o in closed] == [filled.id]
    every = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, direction="asc"))
    assert [o.id for o in every] == [filled.id, resting.id]
    by_symbol = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["META"]))
    assert [o.id for o in by_symbol] == [filled.id]


def test_close_position_sells_whole_quantity(trading: ModelTradingClient, clock: FakeClock) -> None:
    order = trading.close_position("SPY")
    assert (order.side, order.qty) == (OrderSide.SELL, "10")
    clock.advance(1)
    with pytest.raises(APIError) as err:
        trading.get_open_position("SPY")
    assert err.value.status_code == 404


def test_order_after_close_is_accepted_and_stays_open(
    trading: ModelTradingClient, clock: FakeClock
) -> None:
    clock.advance(6 * 3600)
    assert trading.get_clock().is_open is False
    order = trading.submit_order(market("SPY", 1, OrderSide.BUY))
    clock.advance(60)
    assert trading.get_order_by_id(order.id).status == OrderStatus.ACCEPTED


def test_open_buy_reserves_buying_power(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    bid = current_quote(exchange, "VOO").bid
    price = bid - 1
    trading.submit_order(limit("VOO", 10, OrderSide.BUY, float(price)))
    assert decimal_of(trading.get_account().buying_power) == Decimal(100000) - 10 * price
