"""The Alpaca adapter against the local paper exchange, through the real alpaca-py clients."""

from __future__ import annotations

import socket
import threading
import time
from datetime import date
from decimal import Decimal

import pytest

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.http import TimeoutHTTPAdapter
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.domain.errors import BrokerError, DuplicateClientOrderIdError, OrderRejectedError
from alchemiser.domain.orders import OrderIntent, OrderStatus
from alchemiser.domain.plan import Side
from alchemiser.execution.orders import submit_once, wait_for_terminal
from paper_exchange import PaperExchange
from paper_exchange.faults import CrossedFault, FaultSet
from tests.adapters.conftest import SESSION


def _intent(cid: str, symbol: str, side: Side, **size: Decimal) -> OrderIntent:
    return OrderIntent(client_order_id=cid, run_id="r", symbol=symbol, side=side, **size)


def test_account_positions_assets_and_clock_translate_to_decimals(alpaca: AlpacaSettings) -> None:
    broker = AlpacaBroker(alpaca)
    account = broker.get_account()
    assert account.cash == Decimal(50_000)
    assert isinstance(account.buying_power, Decimal)
    (spy,) = broker.get_positions()
    assert (spy.symbol, spy.qty) == ("SPY", Decimal(10))
    assets = {a.symbol: a for a in broker.get_assets(["SPY", "UVXY"])}
    assert assets["SPY"].fractionable
    assert not assets["UVXY"].fractionable
    clock = broker.get_clock()
    assert clock.is_open
    assert clock.timestamp.tzinfo is not None


def test_unknown_symbol_is_a_broker_error_naming_it(alpaca: AlpacaSettings) -> None:
    with pytest.raises(BrokerError, match="get asset NOPE"):
        AlpacaBroker(alpaca).get_assets(["NOPE"])


def test_orders_are_placed_found_by_client_id_and_listed_in_one_call(
    alpaca: AlpacaSettings,
) -> None:
    broker = AlpacaBroker(alpaca)
    sell = submit_once(broker, _intent("alc-t-1", "SPY", Side.SELL, qty=Decimal("2.5")))
    buy = submit_once(broker, _intent("alc-t-2", "QQQ", Side.BUY, notional=Decimal("100")))
    assert sell.broker_order_id != buy.broker_order_id
    final = wait_for_terminal(broker, ["alc-t-1", "alc-t-2"], SystemClock(), 10, 0.05)
    assert [o.status for o in final] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert final[0].filled_qty == Decimal("2.5")
    assert final[1].filled_value == pytest.approx(Decimal(100), abs=Decimal("0.01"))
    assert final[0].filled_avg_price is not None
    assert broker.get_order_by_client_id("alc-t-1") == final[0]
    assert broker.get_order_by_client_id("never-placed") is None


def test_a_second_submission_with_the_same_id_is_refused_by_the_exchange(
    alpaca: AlpacaSettings, exchange: PaperExchange
) -> None:
    broker = AlpacaBroker(alpaca)
    intent = _intent("alc-dup", "SPY", Side.SELL, qty=Decimal(1))
    broker.submit_order(intent)
    with pytest.raises(OrderRejectedError) as caught:
        broker.submit_order(intent)
    assert (caught.value.status, caught.value.code) == (422, 40010001)
    # mapped to the domain error at the adapter: nothing past it knows Alpaca's code
    assert isinstance(caught.value, DuplicateClientOrderIdError)
    # submit_once resolves it by lookup: still exactly one order at the exchange
    assert submit_once(broker, intent).client_order_id == "alc-dup"


def test_insufficient_buying_power_is_a_403_rejection(alpaca: AlpacaSettings) -> None:
    with pytest.raises(OrderRejectedError, match="HTTP 403") as caught:
        AlpacaBroker(alpaca).submit_order(_intent("alc-big", "SPY", Side.BUY, qty=Decimal(10_000)))
    assert caught.value.code == 40310000


def test_daily_bars_are_point_in_time_and_quotes_have_two_sides(alpaca: AlpacaSettings) -> None:
    data = AlpacaMarketData(alpaca)
    bars = data.get_daily_bars(["SPY", "QQQ"], date(2025, 5, 1), SESSION)
    assert bars["SPY"][-1].session == SESSION
    assert bars["SPY"][0].session >= date(2025, 5, 1)
    assert all(b.low <= b.close <= b.high for b in bars["QQQ"])
    quotes = data.get_latest_quotes(["SPY"])
    assert quotes["SPY"].bid < quotes["SPY"].ask


def test_a_symbol_without_a_quote_is_left_out_not_an_error(alpaca: AlpacaSettings) -> None:
    quotes = AlpacaMarketData(alpaca).get_latest_quotes(["SPY", "NOPE"])
    assert set(quotes) == {"SPY"}


@pytest.mark.parametrize("zero", [False, True])
def test_a_crossed_or_zero_quote_is_left_out_and_the_others_kept(
    alpaca: AlpacaSettings, exchange: PaperExchange, zero: bool
) -> None:
    exchange.set_faults(FaultSet(crossed_quotes=CrossedFault(symbols=("SPY",), zero=zero)))
    try:
        quotes = AlpacaMarketData(alpaca).get_latest_quotes(["SPY", "QQQ"])
    finally:
        exchange.set_faults(FaultSet())
    assert set(quotes) == {"QQQ"}


def test_every_sdk_client_gets_a_request_timeout(alpaca: AlpacaSettings) -> None:
    broker = AlpacaBroker(alpaca)
    adapter = broker._client._session.get_adapter("http://x")
    assert isinstance(adapter, TimeoutHTTPAdapter)


def test_a_server_that_never_answers_times_out_instead_of_hanging() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    settings = AlpacaSettings(
        key_id="k",
        secret_key="s",
        base_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
        timeout_seconds=0.5,
    )
    started = time.monotonic()
    with pytest.raises(BrokerError, match="get clock: timed out"):
        AlpacaBroker(settings).get_clock()
    assert time.monotonic() - started < 30  # bounded by the timeout, not by the server
    listener.close()


def test_bad_credentials_are_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        AlpacaSettings(key_id="", secret_key="s")


def test_settings_never_show_the_secret() -> None:
    settings = AlpacaSettings(key_id="key-id-123", secret_key="very-secret-456")
    assert "very-secret-456" not in repr(settings)
    assert "very-secret-456" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/v2", "http://127.0.0.1:8000"),
        ("", None),
    ],
)
def test_base_url_is_normalised_for_alpaca_py(given: str, expected: str | None) -> None:
    assert AlpacaSettings(key_id="k", secret_key="s", base_url=given).base_url == expected
