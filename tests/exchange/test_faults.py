"""Fault injection: every fault mode over raw HTTP, switched on at start and at runtime."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from paper_exchange import PaperExchange
from paper_exchange.__main__ import _parser, build_faults
from paper_exchange.errors import ConfigError
from paper_exchange.faults import FaultSet, LostFault, parse_faults
from sandbox.processes import exchange_oracle, exchange_orders
from tests.exchange.clients import ModelTradingClient
from tests.exchange.conftest import AUTH, FakeClock, StartExchange

Http = Callable[..., requests.Response]
SELL_ONE = {"symbol": "SPY", "qty": "1", "side": "sell", "type": "market", "time_in_force": "day"}


def _faults(exchange: PaperExchange, body: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"{exchange.url}/_exchange/faults"
    response = requests.post(url, json=body, timeout=5) if body is not None else None
    if response is not None:
        assert response.status_code == 200, response.text
    result: dict[str, Any] = requests.get(url, timeout=5).json()
    return result


def _oracle(exchange: PaperExchange) -> list[dict[str, Any]]:
    return exchange_orders(exchange.url)


def test_no_faults_by_default_and_get_shows_the_set(exchange: PaperExchange, http: Http) -> None:
    status = _faults(exchange)
    assert status["faults"] == FaultSet().to_json()
    assert status["injected"] == {}
    assert http("GET", "/v2/clock").status_code == 200


def test_errors_hit_a_seeded_fraction_and_are_never_applied(
    exchange: PaperExchange, http: Http
) -> None:
    _faults(exchange, {"seed": 3, "errors": {"rate": 0.5, "statuses": [500, 503]}})
    codes = [http("GET", "/v2/clock").status_code for _ in range(40)]
    assert set(codes) == {200, 500, 503}
    assert 8 <= codes.count(200) <= 32
    # Same seed, same sequence: a failing scenario can be replayed exactly.
    _faults(exchange, {"seed": 3, "errors": {"rate": 0.5, "statuses": [500, 503]}})
    assert [http("GET", "/v2/clock").status_code for _ in range(40)] == codes
    injected = _faults(exchange)["injected"]
    assert injected["error_500"] + injected["error_503"] == 2 * (40 - codes.count(200))


def test_a_500_is_json_and_a_503_is_an_html_proxy_page(exchange: PaperExchange, http: Http) -> None:
    _faults(exchange, {"errors": {"rate": 1.0, "statuses": [500]}})
    assert http("GET", "/v2/account").json()["code"] == 50010000
    _faults(exchange, {"errors": {"rate": 1.0, "statuses": [503]}})
    page = http("GET", "/v2/account")
    assert page.status_code == 503
    assert page.headers["Content-Type"] == "text/html"
    assert "<html>" in page.text


def test_errored_order_posts_never_reach_the_book(exchange: PaperExchange, http: Http) -> None:
    _faults(exchange, {"errors": {"rate": 1.0, "routes": ["POST /v2/orders"]}})
    assert http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "e1"}).status_code in {
        500,
        503,
    }
    assert http("GET", "/v2/account").status_code == 200  # other routes untouched
    assert _oracle(exchange) == []


def test_a_429_burst_answers_the_next_n_requests_then_clears(
    exchange: PaperExchange, http: Http
) -> None:
    _faults(exchange, {"burst_429": {"count": 3, "retry_after": 0.2}})
    responses = [http("GET", "/v2/clock") for _ in range(5)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200, 200]
    assert responses[0].headers["Retry-After"] == "0.2"
    assert _faults(exchange)["faults"]["burst_429"]["count"] == 0


def test_slow_responses_are_held_before_serving(
    start_exchange: StartExchange, http: Http, exchange: PaperExchange
) -> None:
    _faults(exchange, {"delay": {"seconds": 0.3, "routes": ["GET /v2/clock"]}})
    with pytest.raises(requests.Timeout):
        requests.get(f"{exchange.url}/v2/clock", headers=AUTH, timeout=0.1)
    assert http("GET", "/v2/clock").status_code == 200
    assert _faults(exchange)["injected"]["delay"] == 2


def test_a_lost_order_response_is_a_504_page_but_the_order_is_on_the_book(
    exchange: PaperExchange, http: Http
) -> None:
    _faults(exchange, {"lost_responses": {"mode": "504", "count": 1}})
    lost = http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "lost-1"})
    assert lost.status_code == 504
    assert "Gateway Time-out" in lost.text
    assert [o["client_order_id"] for o in _oracle(exchange)] == ["lost-1"]
    # The retry a client makes is refused as a duplicate; the lookup finds the order.
    again = http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "lost-1"})
    assert (again.status_code, again.json()["code"]) == (422, 40010001)
    found = http("GET", "/v2/orders:by_client_order_id", params={"client_order_id": "lost-1"})
    assert found.json()["client_order_id"] == "lost-1"
    assert len(_oracle(exchange)) == 1


def test_a_dropped_connection_after_an_accepted_order(exchange: PaperExchange, http: Http) -> None:
    _faults(exchange, {"lost_responses": {"mode": "drop", "count": 1}})
    with pytest.raises(requests.ConnectionError):
        http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "drop-1"})
    assert [o["client_order_id"] for o in _oracle(exchange)] == ["drop-1"]
    assert _faults(exchange)["injected"] == {"lost_drop": 1}


def test_a_lost_replace_response_leaves_the_replacement_on_the_book(
    exchange: PaperExchange, http: Http
) -> None:
    limit = {**SELL_ONE, "type": "limit", "limit_price": "9999", "client_order_id": "r0"}
    old = http("POST", "/v2/orders", json=limit).json()
    _faults(
        exchange,
        {"lost_responses": {"mode": "504", "count": 1, "routes": ["PATCH /v2/orders/{id}"]}},
    )
    lost = http(
        "PATCH", f"/v2/orders/{old['id']}", json={"limit_price": "9998", "client_order_id": "r1"}
    )
    assert lost.status_code == 504
    assert [(o["client_order_id"], o["status"]) for o in _oracle(exchange)] == [
        ("r0", "replaced"),
        ("r1", "new"),
    ]


def test_stale_quotes_carry_an_old_timestamp(
    exchange: PaperExchange, http: Http, clock: FakeClock
) -> None:
    fresh = http("GET", "/v2/stocks/quotes/latest", params={"symbols": "SPY"}).json()
    _faults(exchange, {"stale_quotes_seconds": 86_400})
    stale = http("GET", "/v2/stocks/quotes/latest", params={"symbols": "SPY"}).json()

    def stamp(body: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(body["quotes"]["SPY"]["t"].replace("Z", "+00:00"))

    assert (stamp(fresh) - stamp(stale)).total_seconds() >= 86_400 - 1
    assert stale["quotes"]["SPY"]["ap"] == fresh["quotes"]["SPY"]["ap"]


def test_a_halted_symbol_set_at_runtime_accepts_but_never_fills_until_released(
    exchange: PaperExchange, http: Http, clock: FakeClock
) -> None:
    _faults(exchange, {"halted": ["spy"]})
    order = http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "h1"}).json()
    clock.advance(30)
    assert http("GET", f"/v2/orders/{order['id']}").json()["status"] == "new"
    requests.delete(f"{exchange.url}/_exchange/faults", timeout=5)
    clock.advance(1)
    assert http("GET", f"/v2/orders/{order['id']}").json()["status"] == "filled"


def test_an_untradable_symbol_reports_so_and_its_orders_get_alpaca_s_403(
    exchange: PaperExchange, http: Http, trading: ModelTradingClient
) -> None:
    _faults(exchange, {"untradable": ["spy"]})
    assert http("GET", "/v2/assets/SPY").json()["tradable"] is False
    assert http("GET", "/v2/assets/QQQ").json()["tradable"] is True
    listed = {a["symbol"]: a["tradable"] for a in http("GET", "/v2/assets").json()}
    assert (listed["SPY"], listed["QQQ"]) == (False, True)
    refused = http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "u1"})
    assert refused.status_code == 403
    assert refused.json() == {"code": 40310000, "message": "asset SPY is not tradable"}
    with pytest.raises(APIError) as sdk:
        trading.submit_order(
            MarketOrderRequest(
                symbol="SPY", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
            )
        )
    assert sdk.value.status_code == 403
    assert _oracle(exchange) == []
    oracle = exchange_oracle(exchange.url)
    assert oracle["rejected_count"] == 2
    requests.delete(f"{exchange.url}/_exchange/faults", timeout=5)
    assert http("GET", "/v2/assets/SPY").json()["tradable"] is True
    assert http("POST", "/v2/orders", json={**SELL_ONE, "client_order_id": "u2"}).ok


def test_a_replace_of_a_suspended_symbol_s_order_is_refused_too(
    exchange: PaperExchange, http: Http
) -> None:
    resting = {**SELL_ONE, "type": "limit", "limit_price": "9999", "client_order_id": "r1"}
    order = http("POST", "/v2/orders", json=resting).json()
    _faults(exchange, {"untradable": ["SPY"]})
    refused = http("PATCH", f"/v2/orders/{order['id']}", json={"limit_price": "9998"})
    assert (refused.status_code, refused.json()["code"]) == (403, 40310000)
    assert http("GET", f"/v2/orders/{order['id']}").json()["status"] == "new"


def _quote(http: Http, symbol: str = "SPY") -> dict[str, Any]:
    body = http("GET", "/v2/stocks/quotes/latest", params={"symbols": f"{symbol},QQQ"}).json()
    quote: dict[str, Any] = body["quotes"][symbol]
    return quote


def test_crossed_quotes_last_their_seconds_of_exchange_time_then_recover(
    exchange: PaperExchange, http: Http, clock: FakeClock
) -> None:
    _faults(exchange, {"crossed_quotes": {"symbols": ["SPY"], "seconds": 3}})
    crossed = _quote(http)
    assert crossed["bp"] > crossed["ap"] > 0
    assert _quote(http, "QQQ")["bp"] < _quote(http, "QQQ")["ap"]  # other symbols untouched
    clock.advance(2.9)
    assert _quote(http)["bp"] > _quote(http)["ap"]
    clock.advance(0.2)
    recovered = _quote(http)
    assert 0 < recovered["bp"] < recovered["ap"]
    assert _faults(exchange)["injected"]["crossed"] == 5  # responses with SPY in them, crossed


def test_quotes_can_stay_crossed_or_come_back_zero(
    exchange: PaperExchange, http: Http, clock: FakeClock
) -> None:
    _faults(exchange, {"crossed_quotes": {"symbols": ["SPY"]}})
    clock.advance(3600)
    assert _quote(http)["bp"] > _quote(http)["ap"]
    _faults(exchange, {"crossed_quotes": {"symbols": ["SPY"], "zero": True}})
    zero = _quote(http)
    assert (zero["bp"], zero["ap"]) == (0, 0)


def test_html_instead_of_json_on_one_route(exchange: PaperExchange, http: Http) -> None:
    _faults(exchange, {"html": {"routes": ["GET /v2/account"]}})
    page = http("GET", "/v2/account")
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html")
    with pytest.raises(ValueError, match="Expecting value"):
        page.json()
    assert http("GET", "/v2/clock").json()["is_open"] is True


def test_missing_fields_are_stripped_from_a_route(exchange: PaperExchange, http: Http) -> None:
    _faults(exchange, {"missing_fields": {"GET /v2/positions": ["qty", "symbol"]}})
    (position,) = http("GET", "/v2/positions").json()
    assert "qty" not in position
    assert "symbol" not in position
    assert "avg_entry_price" in position


def test_admin_routes_are_never_faulted(exchange: PaperExchange) -> None:
    _faults(exchange, {"errors": {"rate": 1.0}, "burst_429": {"count": 5}})
    assert requests.get(f"{exchange.url}/_exchange/orders", timeout=5).status_code == 200
    assert requests.get(f"{exchange.url}/_exchange/stats", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"errors": {"rate": 2}}, r"errors.rate must be within 0..1"),
        ({"errors": {"statuses": [418]}}, r"errors.statuses must be some of"),
        ({"lost_responses": {"mode": "lose"}}, r"lost_responses.mode"),
        ({"nonsense": 1}, r"unknown field\(s\): nonsense"),
        ({"delay": {"secs": 1}}, r"unknown delay field"),
        ({"untradable": "XLE"}, r"untradable must be a list of strings"),
        ({"crossed_quotes": {"seconds": -1}}, r"crossed_quotes.seconds must be within"),
        ({"crossed_quotes": {"zero": "yes"}}, r"crossed_quotes.zero must be true or false"),
    ],
)
def test_bad_fault_sets_are_refused_naming_the_field(
    exchange: PaperExchange, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_faults(body)
    response = requests.post(f"{exchange.url}/_exchange/faults", json=body, timeout=5)
    assert response.status_code == 422
    assert _faults(exchange)["faults"] == FaultSet().to_json()


def test_faults_given_at_start_are_in_force(start_exchange: StartExchange) -> None:
    exchange = start_exchange(faults=FaultSet(lost_responses=LostFault(count=2)))
    assert _faults(exchange)["faults"]["lost_responses"]["count"] == 2


def test_the_cli_takes_fault_flags() -> None:
    args = _parser().parse_args(
        [
            "--faults",
            '{"html": {"routes": ["GET /v2/account"]}}',
            "--error-rate",
            "0.2",
            "--burst-429",
            "4",
            "--delay",
            "0.5",
            "--lose-order-responses",
            "1",
            "--lost-mode",
            "drop",
            "--stale-quotes",
            "3600",
        ]
    )
    faults = build_faults(args)
    assert faults.errors.rate == 0.2
    assert faults.burst_429.count == 4
    assert faults.delay.seconds == 0.5
    assert (faults.lost_responses.mode, faults.lost_responses.count) == ("drop", 1)
    assert faults.stale_quotes_seconds == 3600
    assert faults.html.routes == ("GET /v2/account",)
    bad = subprocess.run(
        [sys.executable, "-m", "paper_exchange", "--error-rate", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "include")},
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "errors.rate must be within 0..1" in bad.stderr
