"""A paper exchange with a state file keeps its account and orders between starts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import requests

from paper_exchange import AccountSeed, ExchangeRejectionError, PaperEngine
from paper_exchange.state import load_state
from tests.exchange.conftest import AUTH, FakeClock, StartExchange, make_config
from tests.exchange.test_engine import order

SEED = AccountSeed(cash=Decimal(10_000), positions={"SPY": Decimal(10)})


def test_a_restarted_exchange_has_the_same_account_and_knows_every_order(
    clock: FakeClock, tmp_path: Path
) -> None:
    state = tmp_path / "paper-exchange.json"
    first = PaperEngine(make_config(account=SEED, state_file=state), clock)
    bought = first.submit_order(order("AAPL", "3", client_order_id="alc-b-AAPL-0-x"))
    clock.advance(5)
    assert first.get_order(bought.id).status == "filled"
    first.checkpoint()
    before = first.account()
    last_time = first.sim_now()

    clock.advance(3600)  # later, a new process: the seed would say 10 SPY and no AAPL
    second = PaperEngine(make_config(account=SEED, state_file=state), clock)
    assert second.restored
    assert second.account().cash == before.cash
    assert {p.symbol: p.qty for p in second.positions()} == {
        "AAPL": Decimal(3),
        "SPY": Decimal(10),
    }
    again = second.get_order_by_client_id("alc-b-AAPL-0-x")
    assert (again.id, again.status, again.filled_qty) == (bought.id, "filled", Decimal(3))
    with pytest.raises(ExchangeRejectionError, match="client_order_id must be unique"):
        second.submit_order(order("AAPL", "1", client_order_id="alc-b-AAPL-0-x"))
    assert second.sim_now() > last_time  # the session goes on; it does not replay the morning


def test_the_seed_opens_a_new_account_only(clock: FakeClock, tmp_path: Path) -> None:
    state = tmp_path / "paper-exchange.json"
    engine = PaperEngine(make_config(account=SEED, state_file=state), clock)
    assert not engine.restored
    assert load_state(state) is None  # nothing happened yet, nothing written
    engine.submit_order(order("SPY", "4", side="sell"))
    clock.advance(5)
    engine.checkpoint()
    other_seed = AccountSeed(cash=Decimal(1), positions={})
    restored = PaperEngine(make_config(account=other_seed, state_file=state), clock)
    assert {p.symbol: p.qty for p in restored.positions()} == {"SPY": Decimal(6)}


def test_an_order_left_open_expires_when_the_exchange_comes_back_on_a_later_session(
    clock: FakeClock, tmp_path: Path
) -> None:
    state = tmp_path / "paper-exchange.json"
    first = PaperEngine(make_config(account=SEED, state_file=state), clock)
    resting = first.submit_order(order("SPY", "1", side="sell", type="limit", limit_price="9999"))
    first.checkpoint()
    later = PaperEngine(
        make_config(account=SEED, state_file=state, session=first.session.session.replace(day=3)),
        clock,
    )
    assert later.get_order(resting.id).status == "expired"
    assert {p.symbol: p.qty_available for p in later.positions()} == {"SPY": Decimal(10)}


def test_every_answered_request_is_already_on_disk(
    start_exchange: StartExchange, tmp_path: Path
) -> None:
    # A killed exchange (no stop, no last write) still has every order it acknowledged.
    state = tmp_path / "paper-exchange.json"
    exchange = start_exchange(make_config(account=SEED, state_file=state))
    response = requests.post(
        f"{exchange.url}/v2/orders",
        json=order("AAPL", "2", client_order_id="alc-b-AAPL-0-y"),
        headers=AUTH,
        timeout=5,
    )
    assert response.status_code == 200, response.text
    saved = load_state(state)
    assert saved is not None
    assert [o.client_order_id for o in saved.orders] == ["alc-b-AAPL-0-y"]


def test_a_corrupt_state_file_is_refused_naming_it(clock: FakeClock, tmp_path: Path) -> None:
    state = tmp_path / "paper-exchange.json"
    state.write_text("{not json")
    with pytest.raises(ValueError, match=r"paper-exchange\.json"):
        PaperEngine(make_config(state_file=state), clock)
