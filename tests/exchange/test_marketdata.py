"""Market data through alpaca-py's ModelDataClient and raw HTTP for paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.requests import (
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame

from paper_exchange import AccountSeed, PaperExchange
from tests.exchange.clients import ModelDataClient
from tests.exchange.conftest import AUTH, SESSION, StartExchange, make_config

Http = Callable[..., requests.Response]


def daily(symbols: list[str], start: datetime, **kw: object) -> StockBarsRequest:
    return StockBarsRequest(symbol_or_symbols=symbols, timeframe=TimeFrame.Day, start=start, **kw)


def test_daily_bars_cover_every_session_through_the_simulated_one(
    data: ModelDataClient, exchange: PaperExchange
) -> None:
    bars = data.get_stock_bars(daily(["SPY", "AAPL"], datetime(2025, 5, 1, tzinfo=UTC))).data
    calendar = exchange.engine.session.calendar
    expected = calendar.sessions(date(2025, 5, 1), SESSION)
    assert [b.timestamp.date() for b in bars["SPY"]] == expected
    last = bars["SPY"][-1]
    assert last.close == float(exchange.engine.prices.anchor("SPY"))
    assert last.timestamp.isoformat() == "2025-06-02T04:00:00+00:00"  # midnight New York
    for bar in bars["AAPL"]:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.trade_count is not None
        assert bar.vwap is not None


def test_unknown_symbol_is_omitted_from_bars(data: ModelDataClient) -> None:
    bars = data.get_stock_bars(daily(["SPY", "NOPE"], datetime(2025, 5, 1, tzinfo=UTC))).data
    assert set(bars) == {"SPY"}


def test_range_without_bars_returns_empty_object_not_null(http: Http) -> None:
    response = http(
        "GET",
        "/v2/stocks/bars",
        params={"symbols": "SPY", "timeframe": "1Day", "start": "2020-01-01", "end": "2020-02-01"},
    )
    assert response.json() == {"bars": {}, "next_page_token": None, "currency": "USD"}


def test_bars_paginate_across_symbols_with_small_limit(http: Http, data: ModelDataClient) -> None:
    params = {"symbols": "SPY,QQQ", "timeframe": "1Day", "start": "2025-05-01", "limit": 7}
    pages, token = [], None
    while True:
        response = http("GET", "/v2/stocks/bars", params={**params, "page_token": token})
        body = response.json()
        pages.append(body["bars"])
        token = body["next_page_token"]
        if token is None:
            break
    assert all(sum(len(v) for v in page.values()) <= 7 for page in pages)
    assert len(pages) > 2
    merged: dict[str, list[dict[str, object]]] = {}
    for page in pages:
        for symbol, rows in page.items():
            merged.setdefault(symbol, []).extend(rows)
    whole = data.get_stock_bars(daily(["SPY", "QQQ"], datetime(2025, 5, 1, tzinfo=UTC))).data
    assert {s: [r["c"] for r in rows] for s, rows in merged.items()} == {
        s: [b.close for b in rows] for s, rows in whole.items()
    }


def test_bars_respect_sort_desc_and_limit(data: ModelDataClient) -> None:
    bars = data.get_stock_bars(
        daily(["SPY"], datetime(2025, 5, 1, tzinfo=UTC), limit=3, sort="desc")
    ).data
    stamps = [b.timestamp for b in bars["SPY"]]
    assert len(stamps) == 3
    assert stamps == sorted(stamps, reverse=True)


def test_intraday_timeframe_is_rejected_422(data: ModelDataClient) -> None:
    with pytest.raises(APIError) as err:
        data.get_stock_bars(StockBarsRequest(symbol_or_symbols="SPY", timeframe=TimeFrame.Minute))
    assert err.value.status_code == 422


def test_same_seed_gives_identical_bars_and_other_seed_differs(
    start_exchange: StartExchange,
) -> None:
    def closes(seed: int) -> list[float]:
        exchange = start_exchange(make_config(seed=seed))
        client = ModelDataClient("k", "s", url_override=exchange.url)
        return [
            b.close
            for b in client.get_stock_bars(daily(["TQQQ"], datetime(2025, 1, 1, tzinfo=UTC))).data[
                "TQQQ"
            ]
        ]

    assert closes(11) == closes(11)
    assert closes(11) != closes(12)


def test_latest_quote_matches_engine_and_has_positive_spread(
    data: ModelDataClient, exchange: PaperExchange
) -> None:
    quotes = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=["SPY", "NOPE"]))
    assert set(quotes) == {"SPY"}
    quote = quotes["SPY"]
    engine_quote = exchange.engine.quote("SPY", exchange.engine.sim_now())
    assert (quote.bid_price, quote.ask_price) == (float(engine_quote.bid), float(engine_quote.ask))
    assert quote.bid_price < quote.ask_price
    anchor = float(exchange.engine.prices.anchor("SPY"))
    assert abs(quote.ask_price / anchor - 1) < 0.005


def test_latest_trade_prints_between_bid_and_ask(
    data: ModelDataClient, exchange: PaperExchange
) -> None:
    trade = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL"))["AAPL"]
    quote = exchange.engine.quote("AAPL", exchange.engine.sim_now())
    assert float(quote.bid) <= trade.price <= float(quote.ask)


def test_bars_dir_csv_defines_universe_and_history(
    start_exchange: StartExchange, tmp_path: Path
) -> None:
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n"
        "2025-05-29,10,11,9.5,10.5,1000\n"
        "2025-05-30,10.5,12,10,11.25,2000\n"
        "2025-06-02,11.25,11.5,10.75,11,1500\n"
    )
    (tmp_path / "XYZ.csv").write_text("date,open,high,low,close,volume\n2025-06-02,1,1,1,1,5\n")
    config = make_config(bars_dir=tmp_path, account=AccountSeed())
    exchange = start_exchange(config)
    client = ModelDataClient("k", "s", url_override=exchange.url)
    bars = client.get_stock_bars(
        daily(["ABC", "XYZ", "SPY"], datetime(2025, 5, 1, tzinfo=UTC))
    ).data
    assert [b.close for b in bars["ABC"]] == [10.5, 11.25, 11.0]
    assert set(bars) == {"ABC", "XYZ"}
    assert exchange.engine.prices.anchor("ABC") == 11
    assert sorted(exchange.engine.assets) == ["ABC", "XYZ"]
    url = exchange.url + "/v2/stocks/quotes/latest"
    quotes = requests.get(url, params={"symbols": "ABC"}, headers=AUTH, timeout=10).json()
    assert abs(quotes["quotes"]["ABC"]["ap"] / 11 - 1) < 0.005
