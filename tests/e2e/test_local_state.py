"""`make run` day after day against one paper account: the local state folder remembers.

The issue this guards: every `make run` used to start a fresh in-memory S3 server, so a second
run against the same account failed closed on orders its ledger had forgotten.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from alchemiser.defaults import EXCHANGE_STATE
from sandbox.deployment import Deployment, DeploymentConfig
from sandbox.environment import DEMO_KEY_ID, DEMO_SECRET, alpaca_connection
from sandbox.processes import exchange_orders
from sandbox.run import DEMO_ACCOUNT
from tests.e2e.conftest import StartExchange, make_run

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AUTH = {"APCA-API-KEY-ID": DEMO_KEY_ID, "APCA-API-SECRET-KEY": DEMO_SECRET}


def _make_run(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    result = make_run(env, *flags)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result


def test_make_run_twice_on_one_account_remembers_the_session_and_force_trades_it_again(
    exchange_factory: StartExchange, tmp_path: Path
) -> None:
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT))  # started apart, like a real one
    state = tmp_path / "state"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_")) and k != "AIRFLOW_HOME"
    }
    env |= {
        "AIRFLOW_CONN_ALPACA_DEFAULT": alpaca_connection(exchange.url),
        "ALCHEMISER_STATE_DIR": str(state),
        "ALCHEMISER_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PYTHONPATH": str(ROOT / "include"),
    }

    first = _make_run(env)
    assert "outcome SUCCESS" in first.stdout
    placed = exchange_orders(exchange.url)
    assert placed
    runs = state / "alchemiser" / "runs"
    (page,) = runs.glob("*/*/report.html")  # the report is a file a browser can open
    assert f"{(state / 'alchemiser').as_uri()}/runs/" in first.stdout
    assert "alchemiser run report: venue" in page.read_text()  # the report page's h1

    # Someone moves the book by hand (not an alc- order: not the ledger's business).
    position = requests.get(f"{exchange.url}/v2/positions", headers=AUTH, timeout=5).json()[0]
    symbol, qty = position["symbol"], int(float(position["qty"]) / 2)
    sold = requests.post(
        f"{exchange.url}/v2/orders",
        json={"symbol": symbol, "qty": str(qty), "side": "sell", "type": "market"}
        | {"time_in_force": "day"},
        headers=AUTH,
        timeout=5,
    )
    assert sold.status_code == 200, sold.text

    second = _make_run(env)
    assert "outcome ALREADY_REBALANCED" in second.stdout
    assert "already rebalanced by run" in second.stdout
    assert len(exchange_orders(exchange.url)) == len(placed) + 1  # nothing placed, drift or not

    forced = _make_run(env, "--force")
    assert "outcome SUCCESS" in forced.stdout
    new = exchange_orders(exchange.url)[len(placed) + 1 :]
    assert any(o["client_order_id"].startswith(f"alc-b-{symbol}-") for o in new), new

    # The ledger CLI reads the same folder: every alc- order, each once.
    session = json.loads(page.with_name("report.json").read_text())["session"]
    ledger_show = [sys.executable, "-m", "alchemiser", "ledger", "show", "--format", "json"]
    shown = subprocess.run(
        [*ledger_show, "--session", session],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    ids = sorted(e["intent"]["client_order_id"] for e in json.loads(shown.stdout))
    assert ids == sorted(o["client_order_id"] for o in placed + new)


def test_make_airflow_points_every_process_and_the_exchange_at_one_state_folder(
    tmp_path: Path,
) -> None:
    # A full restart of `make airflow` takes minutes; what makes it keep the ledger is that
    # every component reads the same folder and the exchange keeps its account there.
    state = tmp_path / "state"
    deployment = Deployment(DeploymentConfig(home=tmp_path / "home", state_dir=state))
    env = deployment.environment("http://127.0.0.1:1", s3_url=None)
    assert env["AIRFLOW_VAR_ALCHEMISER_STATE_DIR"] == str(state)
    assert "AIRFLOW_CONN_AWS_DEFAULT" not in env
    assert deployment.exchange_args()[-2:] == ("--state", str(state / EXCHANGE_STATE))
