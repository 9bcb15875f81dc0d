"""Fail safe end to end: whatever ends an execution task without success, nothing of the run is
left working at the broker, the ledger agrees, and a report says what happened.

Real Airflow (`dag.test()`, the same runner as `airflow dags test`, with one task's retries or
timeout shortened by tests/e2e/dag_variant.py), the paper exchange with faults, a moto S3 server.
Each test ends with the exchange's order log (the oracle): no open order of the run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.ledger.ledger import TradeLedger
from sandbox.processes import Server
from sandbox.run import DEMO_ACCOUNT
from tests.chaos.harness import ledger_problems
from tests.e2e.conftest import AIRFLOW, ROOT, Deployment, StartExchange, dag_variant

pytestmark = pytest.mark.e2e
OPEN = {"new", "accepted", "partially_filled", "pending_new", "pending_replace"}
REPLACE_STORM = {"errors": {"rate": 1.0, "statuses": [503], "routes": ["PATCH /v2/orders/{id}"]}}
# Limits priced at the mid rest unfilled; replaces step them toward the far touch.
RESTING = ("--limit-fill-fraction", "0.99")
T = TypeVar("T")


def _variant(
    deployment: Deployment, *changes: str, **conf: Any
) -> tuple[list[str], dict[str, str]]:
    """Return the command and environment that run the DAG with `changes` (dag_variant)."""
    conf.setdefault("session", deployment.session())
    return dag_variant(deployment.env, conf, *changes)


def run_variant(
    deployment: Deployment, *changes: str, **conf: Any
) -> subprocess.CompletedProcess[str]:
    args, env = _variant(deployment, *changes, **conf)
    return subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )


def run_variant_while(
    deployment: Deployment, act: Callable[[subprocess.Popen[str]], T], *changes: str
) -> tuple[T, int, str]:
    """Start the DAG variant, call `act` on it while it runs, and wait for it to end.

    Return what `act` returned, the exit code and the combined output; never leave it running.
    """
    args, env = _variant(deployment, *changes)
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        acted = act(process)
        output, _ = process.communicate(timeout=600)
    finally:
        process.kill()
    return acted, process.returncode, output


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def _open_orders(deployment: Deployment) -> list[dict[str, Any]]:
    return [o for o in deployment.exchange_orders() if o["status"] in OPEN]


def _ledger_problems(deployment: Deployment) -> list[str]:
    settings = AlpacaSettings(key_id="k", secret_key="s", base_url=deployment.exchange.url)
    broker = AlpacaBroker(settings)
    store = S3ObjectStore(deployment.s3, deployment.bucket)
    ledger = TradeLedger(store, broker.get_account().account_id, SystemClock())
    session = broker.get_clock().timestamp.date()
    return ledger_problems(ledger, broker, session)


def _faults(deployment: Deployment, body: dict[str, Any]) -> None:
    response = requests.post(f"{deployment.exchange.url}/_exchange/faults", json=body, timeout=5)
    assert response.status_code == 200, response.text


def _report(deployment: Deployment) -> dict[str, Any]:
    (report,) = deployment.reports()
    return report


def _text_report(deployment: Deployment, report: dict[str, Any]) -> str:
    prefix = f"runs/{report['session']}/"
    listing = deployment.s3.list_objects_v2(Bucket=deployment.bucket, Prefix=prefix)
    (key,) = [o["Key"] for o in listing["Contents"] if o["Key"].endswith("/report.txt")]
    return str(deployment.s3.get_object(Bucket=deployment.bucket, Key=key)["Body"].read().decode())


def test_a_broker_error_storm_that_outlasts_the_retries_leaves_nothing_working(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT), *RESTING)
    deployment = Deployment(airflow_home, exchange, s3)
    _faults(deployment, REPLACE_STORM)

    result = run_variant(deployment, "execute_sells:retry_delay=1")

    assert result.returncode != 0
    orders = deployment.exchange_orders()
    assert orders, "the sells placed their first limits before the storm stopped them"
    assert _open_orders(deployment) == []
    assert {o["status"] for o in orders} <= {"canceled", "filled"}
    assert _ledger_problems(deployment) == []
    report = _report(deployment)
    assert report["outcome"] == "failed"
    (failure,) = report["failures"]
    assert failure["task_id"] == "execute_sells"
    assert failure["try_number"] == 3  # every retry was used before the teardown swept
    assert "replace order" in failure["error"]
    assert report["orders"]["open"] == 0
    assert report["orders"]["canceled"] >= 1
    assert report["after"]["holdings"]  # the account after: still holding what did not sell
    assert "canceled" in report["cleanup"]
    text = _text_report(deployment, report)
    assert "Failures" in text
    assert "0 open" in text


def test_the_kill_switch_flipped_between_tries_cancels_the_earlier_tries_orders(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT), *RESTING)
    deployment = Deployment(airflow_home, exchange, s3)
    _faults(deployment, REPLACE_STORM)

    def flip_the_kill_switch(_process: subprocess.Popen[str]) -> int:
        first_try_failed = _wait_for_failure_record(deployment, "execute_sells", timeout=300)
        assert first_try_failed, "the first try of execute_sells never failed"
        placed = len(deployment.exchange_orders())
        _set_variable(deployment, "alchemiser_kill_switch", "on")
        return placed

    try:
        placed, returncode, output = run_variant_while(
            deployment, flip_the_kill_switch, "execute_sells:retry_delay=20"
        )
    finally:
        _delete_variable(deployment, "alchemiser_kill_switch")

    assert returncode != 0, output[-3000:]
    assert len(deployment.exchange_orders()) == placed  # the retry placed nothing new
    assert _open_orders(deployment) == []  # and canceled what the first try left working
    assert _ledger_problems(deployment) == []
    report = _report(deployment)
    assert report["outcome"] == "halted"
    kinds = {f["task_id"]: f["kind"] for f in report["failures"]}
    assert kinds == {"execute_sells": "kill_switch"}
    assert "kill switch on" in report["note"]


def test_a_task_killed_by_its_execution_timeout_mid_walk_leaves_nothing_working(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT), *RESTING)
    deployment = Deployment(airflow_home, exchange, s3)
    # Slow steps: the walk is still resting its first limits when the timeout fires.
    deployment.env["AIRFLOW_VAR_ALCHEMISER_EXECUTION"] = json.dumps(
        {"step_interval_seconds": 120, "walk_seconds": 600, "poll_interval_seconds": 0.5}
    )

    result = run_variant(
        deployment,
        "execute_sells:execution_timeout=15",
        "execute_sells:retries=1",
        "execute_sells:retry_delay=1",
    )

    assert result.returncode != 0
    log = _output(result)
    # The first timeout leaves the orders for the retry, which adopts them; the last cancels.
    assert "its open orders stay for the retry to adopt" in log
    assert "walk adopted" in log
    orders = deployment.exchange_orders()
    assert orders
    # The retry adopted each walk and went on from it: one first order per symbol, never re-sent.
    firsts = [o["symbol"] for o in orders if o["client_order_id"].split("-")[3] == "0"]
    assert sorted(firsts) == sorted({o["symbol"] for o in orders})
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    assert _open_orders(deployment) == []
    assert _ledger_problems(deployment) == []
    report = _report(deployment)
    assert report["outcome"] == "failed"
    (failure,) = report["failures"]
    assert (failure["task_id"], failure["kind"], failure["try_number"]) == (
        "execute_sells",
        "timeout",
        2,
    )
    assert report["orders"]["open"] == 0


def test_a_phase_killed_by_sigterm_cancels_its_orders_and_stops_at_once(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    # What the UI's "mark failed" or a worker shutting down does: SIGTERM to the task's process.
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT), *RESTING)
    deployment = Deployment(airflow_home, exchange, s3)
    deployment.env["AIRFLOW_VAR_ALCHEMISER_EXECUTION"] = json.dumps(
        {"step_interval_seconds": 120, "walk_seconds": 600, "poll_interval_seconds": 0.5}
    )

    def terminate_mid_walk(process: subprocess.Popen[str]) -> int:
        deadline = time.monotonic() + 300
        while not deployment.exchange_orders() and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(3)  # the rest of the first batch of limits (steps are 120 s apart)
        placed = len(deployment.exchange_orders())
        assert placed, "execute_sells never placed an order"
        process.send_signal(signal.SIGTERM)
        return placed

    placed, returncode, output = run_variant_while(deployment, terminate_mid_walk)

    assert returncode != 0, output[-3000:]
    assert len(deployment.exchange_orders()) == placed  # the loop stopped: nothing more sent
    assert _open_orders(deployment) == []
    assert _ledger_problems(deployment) == []
    report = _report(deployment)
    assert report["outcome"] == "failed"
    assert {f["task_id"]: f["kind"] for f in report["failures"]} == {"execute_sells": "killed"}
    assert report["orders"]["canceled"] == placed


def test_a_halted_symbol_whose_walk_cannot_finish_is_canceled_and_reported_partial(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    exchange = exchange_factory("--account", str(DEMO_ACCOUNT), "--halt", "XLE")
    deployment = Deployment(airflow_home, exchange, s3)
    deployment.env["AIRFLOW_VAR_ALCHEMISER_EXECUTION"] = json.dumps(
        {
            "step_interval_seconds": 2,
            "poll_interval_seconds": 0.5,
            "walk_seconds": 12,
            "market_fill_seconds": 6,
        }
    )

    result = deployment.dags_test()

    assert result.returncode != 0  # partial_policy=fail marks the run failed, after the report
    assert _open_orders(deployment) == []
    assert _ledger_problems(deployment) == []
    xle = [o for o in deployment.exchange_orders() if o["symbol"] == "XLE"]
    assert xle
    assert all(o["filled_qty"] in ("0", "0.0") or float(o["filled_qty"]) == 0 for o in xle)
    report = _report(deployment)
    assert report["outcome"] == "partial"
    assert [f["kind"] for f in report["failures"]] == ["partial"]
    assert report["buys"] is not None  # the other symbols were rebalanced all the same
    assert report["orders"]["open"] == 0
    assert "XLE" in _text_report(deployment, report)


def _wait_for_failure_record(deployment: Deployment, task_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = deployment.s3.list_objects_v2(Bucket=deployment.bucket, Prefix="runs/")
        if any(o["Key"].endswith(f"/failures/{task_id}.json") for o in listing.get("Contents", [])):
            return True
        time.sleep(0.5)
    return False


def _airflow(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    for _ in range(10):  # SQLite may be busy with the running DAG for a moment
        result = subprocess.run(
            [AIRFLOW, *args],
            env=deployment.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode == 0:
            return result
        time.sleep(1)
    raise AssertionError(f"airflow {' '.join(args)} failed: {_output(result)[-2000:]}")


def _set_variable(deployment: Deployment, key: str, value: str) -> None:
    _airflow(deployment, "variables", "set", key, value)


def _delete_variable(deployment: Deployment, key: str) -> None:
    subprocess.run(
        [AIRFLOW, "variables", "delete", key],
        env=deployment.env,
        capture_output=True,
        timeout=120,
        check=False,
    )
