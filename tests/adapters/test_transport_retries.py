"""Transport resilience: the real alpaca-py clients against the paper exchange's fault modes."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.http import RetryPolicy, install_timeout, is_repeatable
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.ratelimit import RateLimiter
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import BrokerError, MarketDataError, OrderRejectedError
from alchemiser.domain.orders import OrderIntent
from alchemiser.domain.plan import Side
from alchemiser.execution.orders import submit_once
from paper_exchange import PaperExchange
from sandbox.processes import exchange_orders
from tests.execution.conftest import SharedClock

FAST = {"retry_backoff_seconds": 0.02, "timeout_seconds": 2}


def _settings(exchange: PaperExchange, **overrides: Any) -> AlpacaSettings:
    return AlpacaSettings(
        key_id="k", secret_key="s", base_url=exchange.url, **{**FAST, **overrides}
    )


def _faults(exchange: PaperExchange, body: dict[str, Any]) -> None:
    response = requests.post(f"{exchange.url}/_exchange/faults", json=body, timeout=5)
    assert response.status_code == 200, response.text


def _injected(exchange: PaperExchange) -> dict[str, int]:
    body = requests.get(f"{exchange.url}/_exchange/faults", timeout=5).json()
    return dict(body["injected"])


def _oracle(exchange: PaperExchange) -> list[dict[str, Any]]:
    return exchange_orders(exchange.url)


def _sell(cid: str, qty: str = "1", **kwargs: Any) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid, run_id="r", symbol="SPY", side=Side.SELL, qty=Decimal(qty), **kwargs
    )


def test_alpaca_py_retries_nothing_itself_any_more(exchange: PaperExchange) -> None:
    broker = AlpacaBroker(_settings(exchange))
    assert broker._client._retry_codes == []
    assert broker._data._retry_codes == []
    assert AlpacaMarketData(_settings(exchange))._client._retry_codes == []


def test_500s_and_503s_on_half_the_requests_are_retried_to_success(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"seed": 11, "errors": {"rate": 0.5}})
    broker = AlpacaBroker(_settings(exchange, max_retries=8))
    for _ in range(15):
        assert broker.get_clock().is_open
    assert broker.get_account().cash == Decimal(50_000)
    injected = _injected(exchange)
    assert injected.get("error_500", 0) > 0
    assert injected.get("error_503", 0) > 0  # an HTML page, retried like the JSON 500
    assert broker.transport.retried == sum(injected.values())


def test_when_retries_run_out_the_error_names_the_call_and_the_attempts(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"errors": {"rate": 1.0, "statuses": [503]}})
    broker = AlpacaBroker(_settings(exchange, max_retries=3))
    with pytest.raises(BrokerError, match=r"^get account: HTTP 503 <html>.* after 4 attempts in"):
        broker.get_account()
    assert _injected(exchange) == {"error_503": 4}


def test_the_retry_budget_bounds_a_call_whatever_max_retries_says(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"errors": {"rate": 1.0, "statuses": [500]}})
    clock = SharedClock()  # pauses advance a fake time: the budget counts them
    limiter = RateLimiter(
        per_minute=1000, monotonic=clock.timestamp, wall=clock.timestamp, sleep=clock.sleep
    )
    settings = _settings(exchange, max_retries=10, retry_backoff_seconds=0.5)
    broker = AlpacaBroker(
        settings.model_copy(update={"retry_budget_seconds": 5.0}), trading_limiter=limiter
    )
    with pytest.raises(BrokerError, match=r"get clock: HTTP 500 .* after 4 attempts"):
        broker.get_clock()
    assert clock.slept == [0.5, 1.0, 2.0]  # a 4 s pause would end past the 5 s budget


def test_an_order_accepted_but_answered_504_is_found_not_sent_twice(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"lost_responses": {"mode": "504", "count": 1}})
    broker = AlpacaBroker(_settings(exchange))
    result = submit_once(broker, _sell("alc-lost-504"), looked_up=True)
    assert result.client_order_id == "alc-lost-504"
    assert [o["client_order_id"] for o in _oracle(exchange)] == ["alc-lost-504"]
    assert _injected(exchange) == {"lost_504": 1}
    assert broker.transport.retried == 1  # the retry met the duplicate id; the lookup found it


def test_an_order_whose_connection_dropped_is_found_not_sent_twice(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"lost_responses": {"mode": "drop", "count": 2}})
    broker = AlpacaBroker(_settings(exchange))
    first = submit_once(broker, _sell("alc-drop-1"), looked_up=True)
    second = submit_once(broker, _sell("alc-drop-2"), looked_up=False)
    assert (first.client_order_id, second.client_order_id) == ("alc-drop-1", "alc-drop-2")
    ids = Counter(o["client_order_id"] for o in _oracle(exchange))
    assert ids == {"alc-drop-1": 1, "alc-drop-2": 1}


def test_a_replace_whose_response_was_lost_adopts_the_replacement(
    exchange: PaperExchange,
) -> None:
    broker = AlpacaBroker(_settings(exchange))
    resting = broker.submit_order(_sell("alc-r-0", order_type="limit", limit_price=Decimal("9999")))
    _faults(
        exchange,
        {"lost_responses": {"mode": "504", "count": 1, "routes": ["PATCH /v2/orders/{id}"]}},
    )
    replacement = broker.replace_order(resting.broker_order_id, "alc-r-1", Decimal("9998"))
    assert replacement.client_order_id == "alc-r-1"
    assert replacement.limit_price == Decimal("9998")
    book = [(o["client_order_id"], o["status"]) for o in _oracle(exchange)]
    assert book == [("alc-r-0", "replaced"), ("alc-r-1", "new")]


def test_a_replace_refused_for_real_is_still_an_order_rejection(exchange: PaperExchange) -> None:
    broker = AlpacaBroker(_settings(exchange))
    resting = broker.submit_order(_sell("alc-c-0", order_type="limit", limit_price=Decimal(9999)))
    broker.cancel_order(resting.broker_order_id)
    with pytest.raises(OrderRejectedError, match=r"replace order with alc-c-1: HTTP 422"):
        broker.replace_order(resting.broker_order_id, "alc-c-1", Decimal("9998"))


def test_an_order_without_a_client_order_id_is_never_resent(exchange: PaperExchange) -> None:
    _faults(exchange, {"lost_responses": {"mode": "504", "count": 1}})
    client = TradingClient("k", "s", paper=True, url_override=exchange.url)
    install_timeout(client, 2, policy=RetryPolicy(backoff_seconds=0.01))
    request = MarketOrderRequest(
        symbol="SPY", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
    )
    with pytest.raises(Exception, match="504") as caught:  # alpaca-py's APIError
        client.submit_order(request)
    assert type(caught.value).__name__ == "APIError"
    assert len(_oracle(exchange)) == 1  # sent once: a resend would have been a second order


def test_is_repeatable_only_for_reads_cancels_and_orders_with_an_id() -> None:
    def prepared(method: str, body: Any = None) -> requests.PreparedRequest:
        return requests.Request(method, "http://127.0.0.1/v2/orders", json=body).prepare()

    assert is_repeatable(prepared("GET"))
    assert is_repeatable(prepared("DELETE"))
    assert is_repeatable(prepared("POST", {"symbol": "SPY", "client_order_id": "alc-1"}))
    assert is_repeatable(prepared("PATCH", {"limit_price": 1, "client_order_id": "alc-2"}))
    assert not is_repeatable(prepared("POST", {"symbol": "SPY"}))
    assert not is_repeatable(prepared("PATCH", {"limit_price": 1}))
    limit = LimitOrderRequest(
        symbol="SPY", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, limit_price=1
    )
    assert "client_order_id" not in limit.to_request_fields()


def test_a_429_burst_waits_and_succeeds(exchange: PaperExchange) -> None:
    _faults(exchange, {"burst_429": {"count": 3, "retry_after": 0.05}})
    broker = AlpacaBroker(_settings(exchange))
    assert broker.get_clock().is_open
    assert _injected(exchange) == {"429": 3}


def test_a_slow_exchange_within_the_timeout_is_just_slow(exchange: PaperExchange) -> None:
    _faults(exchange, {"delay": {"seconds": 0.2}})
    assert AlpacaBroker(_settings(exchange)).get_clock().is_open
    assert _injected(exchange) == {"delay": 1}


def test_an_exchange_slower_than_the_timeout_fails_after_bounded_retries(
    exchange: PaperExchange,
) -> None:
    _faults(exchange, {"delay": {"seconds": 1.0}})
    broker = AlpacaBroker(_settings(exchange, timeout_seconds=0.3, max_retries=2))
    started = time.monotonic()
    with pytest.raises(BrokerError, match=r"get clock: timed out \(ReadTimeout\) after 3 attempts"):
        broker.get_clock()
    assert time.monotonic() - started < 30  # bounded; the exact time is not the point


def test_html_instead_of_json_is_a_clear_error_and_not_retried(exchange: PaperExchange) -> None:
    _faults(exchange, {"html": {"routes": ["GET /v2/account"]}})
    broker = AlpacaBroker(_settings(exchange))
    with pytest.raises(BrokerError, match="get account: response is not JSON"):
        broker.get_account()
    assert broker.transport.retried == 0


def test_missing_fields_are_a_clear_error_naming_the_call(exchange: PaperExchange) -> None:
    _faults(exchange, {"missing_fields": {"GET /v2/orders": ["client_order_id", "status"]}})
    broker = AlpacaBroker(_settings(exchange))
    broker.submit_order(_sell("alc-m-1"))
    with pytest.raises(BrokerError, match="list orders: unexpected response shape"):
        broker.get_orders(["alc-m-1"])


def test_market_data_retries_too(exchange: PaperExchange) -> None:
    _faults(exchange, {"seed": 2, "errors": {"rate": 0.5}})
    data = AlpacaMarketData(_settings(exchange, max_retries=8))
    for _ in range(6):
        assert data.get_latest_quotes(["SPY"])["SPY"].bid > 0
    assert data.transport.retried > 0
    _faults(exchange, {"errors": {"rate": 1.0, "routes": ["GET /v2/stocks/quotes/latest"]}})
    with pytest.raises(MarketDataError, match=r"get latest quotes: HTTP 500 .* after 9 attempts"):
        data.get_latest_quotes(["SPY"])
