"""`make airflow` stopped and started again: the run history, the ledger and the account stay.

The same configuration `make airflow` uses (SQLite, LocalExecutor, a state folder for the local
store and the paper exchange's account), started twice on the same home and folder.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from alchemiser.domain.keys import run_prefix
from sandbox.deployment import Deployment, DeploymentConfig
from sandbox.run import DEMO_ACCOUNT

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(900)]


def test_a_restarted_make_airflow_keeps_history_ledger_and_account(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = DeploymentConfig(
        home=tmp_path / "home", state_dir=state, exchange_args=("--account", str(DEMO_ACCOUNT))
    )
    with Deployment(config) as first:
        first.unpause()
        session = first.exchange_session()
        traded = first.trigger({"session": session})
        assert first.wait_for_run(traded).state == "success", first.describe_run(traded)
        placed = first.exchange_orders()
    assert placed

    with Deployment(config) as second:
        assert second.exchange_session() == session
        assert traded in [r.run_id for r in second.runs()]  # the console's history
        assert second.exchange_orders() == placed  # the account and its orders
        again = second.trigger({"session": session})
        assert second.wait_for_run(again).state == "success", second.describe_run(again)
        assert len(second.exchange_orders()) == len(placed)  # the ledger: nothing placed twice
    prefix = run_prefix(date.fromisoformat(session), again)
    body = json.loads((state / "alchemiser" / prefix / "report.json").read_text())
    assert body["outcome"] == "already_rebalanced"
    assert f"already rebalanced by run {traded}" in body["note"]
