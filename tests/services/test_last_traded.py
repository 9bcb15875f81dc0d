"""The last traded targets live under the account; state under the old global key still counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.domain.keys import LEGACY_LAST_TARGETS_KEY, last_targets_key
from alchemiser.domain.plan import PlanSettings
from alchemiser.ports import Adapters
from alchemiser.risk.gate import SignalGateError
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.last_traded import keep_last_traded, last_traded
from alchemiser.services.plan import plan_rebalance
from alchemiser.services.replay import ReplaySettings
from tests.builders import SESSION, D, targets
from tests.fakes import FakeBroker, FakeClock, FakeMarketData

ACCOUNT = "acct-1"
OLD = targets({"XLE": "1"})
NEW = targets({"SPY": "1"})


def _legacy_state(tmp_path: Path) -> LocalObjectStore:
    """A `.alchemiser-state/` folder as a version before the move left it."""
    store = LocalObjectStore(tmp_path / ".alchemiser-state", "alchemiser")
    store.put(LEGACY_LAST_TARGETS_KEY, OLD.model_dump_json(indent=2).encode())
    return store


def test_the_targets_are_kept_under_the_account_s_ledger_prefix() -> None:
    assert last_targets_key("PA3 xyz") == "ledger/PA3_xyz/last_traded_targets.json"


def test_state_written_under_the_old_key_is_still_read(tmp_path: Path) -> None:
    store = _legacy_state(tmp_path)
    assert last_traded(store, ACCOUNT) == OLD


def test_only_the_account_s_key_is_written_and_it_wins_over_the_old_one(tmp_path: Path) -> None:
    store = _legacy_state(tmp_path)
    keep_last_traded(store, ACCOUNT, NEW)
    assert last_traded(store, ACCOUNT) == NEW
    assert store.get(LEGACY_LAST_TARGETS_KEY) == OLD.model_dump_json(indent=2).encode()
    assert store.list_keys("ledger/") == (last_targets_key(ACCOUNT),)


def test_an_account_that_never_traded_has_no_last_targets(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, "alchemiser")
    assert last_traded(store, ACCOUNT) is None


def test_the_signal_gate_compares_with_targets_kept_under_the_old_key(tmp_path: Path) -> None:
    prices = {"XLE": D(50), "SPY": D(100)}
    broker = FakeBroker(prices=dict(prices), positions={"XLE": D(100)})
    store = _legacy_state(tmp_path)
    adapters = Adapters(broker, FakeMarketData(prices), store, FakeClock())
    run = RunContext(
        dag_id="daily_rebalance", run_id="manual__2", session=SESSION, session_source="param"
    )
    ref = save(store, run.prefix, "targets", NEW, "all SPY")
    with pytest.raises(SignalGateError, match=r"move 100\.0% of the book"):
        plan_rebalance(run, ref, adapters, PlanSettings(), ReplaySettings())
