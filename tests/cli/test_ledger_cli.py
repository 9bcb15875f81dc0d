"""`python -m alchemiser ledger show` reads the ledger where `make run` keeps it by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.cli.main import main
from alchemiser.ledger.journal import LedgeredBroker
from alchemiser.ledger.ledger import TradeLedger
from tests.builders import SESSION, D
from tests.fakes import FakeBroker, FakeClock
from tests.ledger.test_journal import CID, INTENT, TASK


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    ledger = TradeLedger(LocalObjectStore(folder, "alchemiser"), "acct-1", FakeClock())
    broker = FakeBroker(prices={"SPY": D(100)}, cash=D(10_000))
    LedgeredBroker(broker, ledger, SESSION, TASK).submit_order(INTENT)
    return folder


def test_without_s3_settings_it_reads_the_local_state_folder(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    monkeypatch.setenv("ALCHEMISER_STATE_DIR", str(state))
    assert main(["ledger", "show", "--session", SESSION.isoformat(), "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["intent"]["client_order_id"], entry["state"]) == (CID, "terminal")


def test_state_dir_names_the_folder_and_an_empty_one_says_where_it_looked(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["ledger", "show", "--session", SESSION.isoformat(), "--state-dir", str(state)]) == 0
    )
    assert CID in capsys.readouterr().out
    empty = tmp_path / "empty"
    assert (
        main(["ledger", "show", "--session", SESSION.isoformat(), "--state-dir", str(empty)]) == 1
    )
    assert f"the ledger in {(empty / 'alchemiser').as_uri()}/ledger/ holds no account" in (
        capsys.readouterr().err
    )


def test_a_whole_ten_share_order_reads_10_not_1e_plus_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "state"
    ledger = TradeLedger(LocalObjectStore(folder, "alchemiser"), "acct-1", FakeClock())
    broker = FakeBroker(prices={"SPY": D(100)}, cash=D(10_000))
    LedgeredBroker(broker, ledger, SESSION, TASK).submit_order(
        INTENT.model_copy(update={"qty": D("10.000")})
    )
    main(["ledger", "show", "--session", SESSION.isoformat(), "--state-dir", str(folder)])
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(CID)]
    assert row.split()[5:7] == ["10", "10"]  # intended, filled
    assert "E+" not in row
