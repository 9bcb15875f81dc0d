"""Engine unit tests with an injected clock, and the package's independence."""

from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paper_exchange import AccountSeed, ExchangeRejectionError, PaperEngine
from tests.exchange.conftest import FakeClock, make_config

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "alchemiser" / "exchange"


def order(symbol: str, qty: str, side: str = "buy", **extra: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "qty": qty,
        "side": side,
        "type": "market",
        "time_in_force": "day",
        **extra,
    }


def test_market_order_waits_for_fill_delay(clock: FakeClock) -> None:
    engine = PaperEngine(make_config(fill_delay_seconds=2), clock)
    placed = engine.submit_order(order("AAPL", "1"))
    clock.advance(1.9)
    assert engine.get_order(placed.id).status == "new"
    clock.advance(0.2)
    assert engine.get_order(placed.id).status == "filled"


def test_sell_limit_above_bid_fills_when_bid_rises_to_it(clock: FakeClock) -> None:
    engine = PaperEngine(make_config(), clock)
    start = engine.sim_now()
    bids = [(m, engine.quote("SPY", start + timedelta(minutes=m)).bid) for m in range(1, 120)]
    minute, best = max(bids, key=lambda item: item[1])
    assert best > engine.quote("SPY", start).bid
    placed = engine.submit_order(
        order("SPY", "2", side="sell", type="limit", limit_price=str(best))
    )
    clock.advance(minute * 60 - 61)
    assert engine.get_order(placed.id).status == "new"
    clock.advance(120)
    done = engine.get_order(placed.id)
    assert (done.status, done.filled_avg_price) == ("filled", best)


def test_partial_fill_of_fractional_qty_sums_to_total(clock: FakeClock) -> None:
    engine = PaperEngine(make_config(partial_fills=4), clock)
    placed = engine.submit_order(order("AAPL", "1.5"))
    clock.advance(10)
    done = engine.get_order(placed.id)
    assert (done.status, done.filled_qty) == ("filled", Decimal("1.5"))


def test_rejected_replace_keeps_the_old_order_open(clock: FakeClock) -> None:
    engine = PaperEngine(make_config(account=AccountSeed(cash=Decimal(1000))), clock)
    placed = engine.submit_order(order("SPY", "1", type="limit", limit_price="1.00"))
    with pytest.raises(ExchangeRejectionError) as err:
        engine.replace_order(placed.id, {"qty": 2000})
    assert err.value.status == 403
    assert engine.get_order(placed.id).status == "new"


def test_exchange_package_imports_no_other_alchemiser_module_nor_alpaca() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("alpaca"), path
                if name.startswith("alchemiser"):
                    assert name.startswith("paper_exchange"), path
