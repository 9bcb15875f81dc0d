"""A ledger that lost its state meets the broker's orders: the error says what and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.ledger.journal import LedgeredBroker
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ledger.reconcile import ReconciliationError, reconcile
from tests.builders import SESSION, D
from tests.fakes import FakeBroker, FakeClock
from tests.ledger.test_journal import CID, INTENT, TASK


def test_a_reset_state_folder_is_named_with_the_orders_it_does_not_know_and_the_fix(
    tmp_path: Path,
) -> None:
    broker = FakeBroker(prices={"SPY": D(100)}, cash=D(10_000))
    before = TradeLedger(LocalObjectStore(tmp_path / "old", "alchemiser"), "acct-1", FakeClock())
    LedgeredBroker(broker, before, SESSION, TASK).submit_order(INTENT)
    assert reconcile(before, broker, SESSION, TASK).clean

    fresh = LocalObjectStore(tmp_path / "new", "alchemiser")  # `make reset-state`, or a new machine
    with pytest.raises(ReconciliationError) as failure:
        reconcile(TradeLedger(fresh, "acct-1", FakeClock()), broker, SESSION, TASK)
    message = str(failure.value)
    assert f"unknown to the ledger: {CID} (buy SPY" in message
    where = f"{(tmp_path / 'new' / 'alchemiser').as_uri()}/ledger/acct-1/{SESSION}/orders/"
    assert f"the ledger read from {where} does not record" in message
    assert "state was reset" in message
    assert "another machine" in message
    assert "Fix: point this deployment at the state that placed them" in message
    assert "nothing more placed" in message
