"""Sale proceeds: usable at once on a margin account, after the settlement delay on cash."""

from __future__ import annotations

from decimal import Decimal

from alpaca.trading.requests import MarketOrderRequest

from paper_exchange import AccountSeed
from tests.exchange.clients import ModelTradingClient, decimal_of
from tests.exchange.conftest import FakeClock, StartExchange, make_config


def sell_spy(trading: ModelTradingClient, clock: FakeClock) -> Decimal:
    order = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=10, side="sell", time_in_force="day")
    )
    clock.advance(0.5)
    filled = trading.get_order_by_id(order.id)
    return decimal_of(filled.filled_avg_price) * 10


def test_margin_account_can_reuse_sale_proceeds_immediately(
    start_exchange: StartExchange, clock: FakeClock
) -> None:
    seed = AccountSeed(cash=Decimal(0), positions={"SPY": Decimal(10)}, account_type="margin")
    exchange = start_exchange(make_config(account=seed))
    trading = ModelTradingClient("k", "s", url_override=exchange.url)
    proceeds = sell_spy(trading, clock)
    assert decimal_of(trading.get_account().buying_power) == proceeds.quantize(Decimal("0.01"))


def test_cash_account_proceeds_usable_only_after_settlement_delay(
    start_exchange: StartExchange, clock: FakeClock
) -> None:
    seed = AccountSeed(
        cash=Decimal(0),
        positions={"SPY": Decimal(10)},
        account_type="cash",
        settlement_delay_seconds=5,
    )
    exchange = start_exchange(make_config(account=seed))
    trading = ModelTradingClient("k", "s", url_override=exchange.url)
    proceeds = sell_spy(trading, clock).quantize(Decimal("0.01"))
    account = trading.get_account()
    assert decimal_of(account.cash) == proceeds
    assert decimal_of(account.buying_power) == 0
    clock.advance(5)
    assert decimal_of(trading.get_account().buying_power) == proceeds
