"""Every order rule surfaces through alpaca-py as an APIError with Alpaca's status and code."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from paper_exchange import PaperExchange
from tests.exchange.clients import ModelTradingClient

Http = Callable[..., requests.Response]


def reject(
    trading: ModelTradingClient, request: MarketOrderRequest | LimitOrderRequest
) -> APIError:
    with pytest.raises(APIError) as err:
        trading.submit_order(request)
    return err.value


def buy(symbol: str, qty: float, **kw: object) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force="day", **kw)


def test_client_order_id_reuse_after_cancel_is_422(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    bid = exchange.engine.quote("SPY", exchange.engine.sim_now()).bid
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="SPY",
            qty=1,
            side="buy",
            time_in_force="day",
            limit_price=round(float(bid) / 2, 2),
            client_order_id="intent-1",
        )
    )
    trading.cancel_order_by_id(order.id)
    err = reject(trading, buy("AAPL", 1, client_order_id="intent-1"))
    assert (err.status_code, err.code) == (422, 40010001)
    assert err.message == "client_order_id must be unique"


def test_buy_beyond_buying_power_is_403(trading: ModelTradingClient) -> None:
    err = reject(trading, buy("SPY", 100000))
    assert (err.status_code, err.code, err.message) == (403, 40310000, "insufficient buying power")


def test_sell_more_than_held_is_403_with_quantities(trading: ModelTradingClient) -> None:
    err = reject(
        trading, MarketOrderRequest(symbol="SPY", qty=12, side="sell", time_in_force="day")
    )
    assert (err.status_code, err.code) == (403, 40310000)
    assert err.message == "insufficient qty available for order (requested: 12, available: 10)"


def test_sell_of_shares_held_by_open_sell_counts_as_unavailable(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    ask = exchange.engine.quote("SPY", exchange.engine.sim_now()).ask
    trading.submit_order(
        LimitOrderRequest(
            symbol="SPY", qty=7, side="sell", time_in_force="day", limit_price=float(ask + 20)
        )
    )
    err = reject(trading, MarketOrderRequest(symbol="SPY", qty=4, side="sell", time_in_force="day"))
    assert "available: 3" in err.message
    assert trading.get_open_position("SPY").qty_available == "3"


def test_sub_penny_limit_price_is_422(trading: ModelTradingClient) -> None:
    err = reject(
        trading,
        LimitOrderRequest(
            symbol="SPY", qty=1, side="buy", time_in_force="day", limit_price=100.001
        ),
    )
    assert (err.status_code, err.code) == (422, 42210000)
    assert "sub-penny increment does not fulfill minimum pricing criteria" in err.message


def test_notional_below_one_dollar_is_403(trading: ModelTradingClient) -> None:
    err = reject(
        trading, MarketOrderRequest(symbol="SPY", notional=0.5, side="buy", time_in_force="day")
    )
    assert (err.status_code, err.code) == (403, 40310000)


def test_buy_while_sell_open_is_wash_trade_403(
    trading: ModelTradingClient, exchange: PaperExchange
) -> None:
    ask = exchange.engine.quote("SPY", exchange.engine.sim_now()).ask
    trading.submit_order(
        LimitOrderRequest(
            symbol="SPY", qty=1, side="sell", time_in_force="day", limit_price=float(ask + 20)
        )
    )
    err = reject(trading, buy("SPY", 1))
    assert (err.status_code, err.code) == (403, 40310000)
    assert err.message == "potential wash trade detected. use complex orders"


def test_fractional_qty_on_non_fractionable_asset_is_422(trading: ModelTradingClient) -> None:
    err = reject(trading, buy("UVXY", 1.5))
    assert (err.status_code, err.code) == (422, 42210000)
    assert "UVXY" in err.message


def test_fractional_gtc_order_is_422(trading: ModelTradingClient) -> None:
    err = reject(
        trading,
        MarketOrderRequest(symbol="SPY", qty=0.5, side="buy", time_in_force=TimeInForce.GTC),
    )
    assert (err.status_code, err.code) == (422, 42210000)


def test_untradable_asset_is_422(trading: ModelTradingClient) -> None:
    err = reject(trading, buy("DELIST", 1))
    assert (err.status_code, err.message) == (422, "asset DELIST is not tradable")


def test_unknown_symbol_is_422_naming_it(trading: ModelTradingClient) -> None:
    err = reject(trading, buy("ZZZZ", 1))
    assert err.status_code == 422
    assert "ZZZZ" in err.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"qty": "0"}, "qty must be > 0"),
        ({"qty": "-1"}, "qty must be > 0"),
        ({"qty": "1", "notional": "10"}, "only one of qty or notional may be specified"),
        ({}, "qty or notional is required"),
        ({"notional": "50", "type": "limit", "limit_price": "10"}, None),
        ({"qty": "1", "type": "stop"}, None),
    ],
)
def test_malformed_quantities_and_types_are_422(
    http: Http, body: dict[str, str], message: str | None
) -> None:
    payload = {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day", **body}
    response = http("POST", "/v2/orders", json=payload)
    assert response.status_code == 422
    if message is not None:
        assert response.json()["message"] == message


def test_rejections_are_counted_by_the_oracle(trading: ModelTradingClient, http: Http) -> None:
    reject(trading, buy("ZZZZ", 1))
    trading.submit_order(buy("AAPL", 1))
    oracle = http("GET", "/_exchange/orders").json()
    assert oracle["rejected_count"] == 1
    assert oracle["count"] == 1
    assert Decimal(oracle["orders"][0]["qty"]) == 1
