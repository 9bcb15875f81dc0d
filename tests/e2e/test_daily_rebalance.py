"""daily_rebalance end to end: real Airflow (`dags test`), the paper exchange, a moto S3 server."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from alchemiser.calendars.trading import calendar
from sandbox.processes import Server, start_exchange
from sandbox.run import DEMO_ACCOUNT
from tests.e2e.conftest import Deployment, StartExchange, make_run

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


class StatsdListener:
    """A UDP socket on loopback standing in for a StatsD server; keeps every metric name."""

    def __enter__(self) -> StatsdListener:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def airflow_env(self) -> dict[str, str]:
        return {
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(self.sock.getsockname()[1]),
        }

    def names(self) -> set[str]:
        names: set[str] = set()
        while True:
            try:
                packet = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                return names
            names |= {line.split(":", 1)[0] for line in packet.splitlines() if line}


@dataclass(frozen=True)
class FullRun:
    """One full run on the demo account, read back as it ended (later runs add to the venue)."""

    deployment: Deployment
    result: subprocess.CompletedProcess[str]
    metrics: set[str]
    reports: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    ledger: list[dict[str, Any]]


@pytest.fixture(scope="module")
def full_run(
    airflow_home: Path, s3: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullRun]:
    """Run the DAG once: one test asserts what the run did, another runs the session again."""
    logs = tmp_path_factory.mktemp("full-run-exchange")
    with start_exchange(logs, "--account", str(DEMO_ACCOUNT)) as exchange:
        deployment = Deployment(airflow_home, exchange, s3)
        with StatsdListener() as statsd:
            metrics_env = statsd.airflow_env()
            deployment.env.update(metrics_env)
            result = deployment.dags_test()
            metrics = statsd.names()
        for key in metrics_env:  # the listener is gone: later runs send no metrics
            del deployment.env[key]
        reports = deployment.reports()
        ledger = _ledger_show(deployment.bucket, s3.url, reports[0]["session"]) if reports else []
        yield FullRun(deployment, result, metrics, reports, deployment.exchange_orders(), ledger)


def _ledger_show(bucket: str, endpoint_url: str, session: str) -> list[dict[str, Any]]:
    """Return `python -m alchemiser ledger show` for `session`: what an operator reads."""
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "alchemiser",
            "ledger",
            "show",
            "--session",
            session,
            "--bucket",
            bucket,
            "--endpoint-url",
            endpoint_url,
            "--format",
            "json",
        ],
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "e2e",
            "AWS_SECRET_ACCESS_KEY": "e2e",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONPATH": str(ROOT / "include"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(shown.stdout))


def test_a_full_run_sells_buys_and_lands_on_the_targets(
    airflow_home: Path, s3: Server, full_run: FullRun
) -> None:
    result, received = full_run.result, full_run.metrics
    assert result.returncode == 0, _failure(result)

    (report,) = full_run.reports
    assert report["outcome"] == "success"
    # Metrics went out through Airflow's StatsD client: counts, slippage, durations.
    for name in ("orders.placed", "orders.filled", "slippage_bps", "phase.sells", "phase.buys"):
        assert f"airflow.alchemiser.{name}" in received, sorted(received)
    assert "airflow.alchemiser.settlement.wait" in received
    sells, buys = report["sells"]["orders"], report["buys"]["orders"]
    assert sells
    assert buys
    assert all(o["status"] == "filled" for o in sells + buys)
    assert {o["symbol"] for o in sells} == {"SPY", "XLE"}  # XLE is a full exit
    for row in report["weights"]:
        assert abs(Decimal(row["actual"]) - Decimal(row["target"])) < Decimal("0.01"), row

    # The exchange's own order log is the oracle: every order belongs to one plan item's walk
    # (one order per price step it needed, then perhaps its final order), all ours, none twice,
    # and on the defaults none unpriced: a walk's final order is a collared limit.
    orders = full_run.orders
    assert all(o["type"] == "limit" and o["limit_price"] for o in orders)
    walks = report["sells"]["walks"] + report["buys"]["walks"]
    assert len(walks) == len(report["plan"]["items"])
    ids = [o["client_order_id"] for o in orders]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("alc-") for i in ids)
    assert {c for w in walks for c in w["client_order_ids"]} == set(ids)
    assert {o["client_order_id"] for o in sells + buys} <= set(ids)
    assert all(w["outcome"] == "filled" and w["arrival_mid"] for w in walks)

    # Every artifact traces back to its run; XCom carried only references.
    assert all(a["key"].startswith(f"runs/{report['session']}/") for a in report["artifacts"])
    assert report["plan"]["derived_from"][0] == report["targets"]["run_id"].join(
        ["target_allocation:", ""]
    )

    # The report task's "Run report" link (stored as XCom by the worker) opens the HTML page.
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        (stored,) = db.execute(
            "SELECT value FROM xcom WHERE task_id = 'report' AND key = '_link_ReportLink' "
            "AND run_id = ?",
            (report["run_id"],),
        ).fetchone()
    link = json.loads(stored)
    assert link.startswith(f"{s3.url}/{full_run.deployment.bucket}/runs/{report['session']}/")
    assert link.endswith("/report.html")
    page = requests.get(link, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "alchemiser run report: venue" in page.text  # the h1 of the report page

    # The ledger holds one entry per exchange order, each with the fill the exchange reports.
    ledger = {e["intent"]["client_order_id"]: e for e in full_run.ledger}
    assert set(ledger) == set(ids)
    for order in orders:
        entry = ledger[order["client_order_id"]]
        assert entry["state"] == "terminal", entry
        assert Decimal(entry["filled_qty"]) == Decimal(order["filled_qty"]), entry


def test_a_second_run_for_the_same_session_plans_but_places_nothing_unless_forced(
    full_run: FullRun,
) -> None:
    deployment = full_run.deployment
    assert full_run.result.returncode == 0, _failure(full_run.result)
    placed = len(full_run.orders)
    first_run = full_run.reports[-1]["run_id"]

    second = deployment.dags_test()
    assert second.returncode == 0, _failure(second)
    assert len(deployment.exchange_orders()) == placed
    latest = deployment.reports()[-1]
    assert latest["outcome"] == "already_rebalanced"
    assert f"already rebalanced by run {first_run}" in latest["note"]
    assert latest["sells"] is None
    assert latest["buys"] is None

    forced = deployment.dags_test(force=True)
    assert forced.returncode == 0, _failure(forced)
    assert deployment.reports()[-1]["outcome"] in {"no_trades", "success"}


def test_on_a_cash_account_the_buys_wait_for_the_sale_proceeds(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange, tmp_path: Path
) -> None:
    account = tmp_path / "cash-account.json"
    account.write_text(
        json.dumps(
            {
                "cash": "100",
                "account_type": "cash",
                "settlement_delay_seconds": 20,  # after the first look, inside the 30 s wait
                "positions": {"XLE": "2000", "SPY": "40"},
            }
        )
    )
    deployment = Deployment(airflow_home, exchange_factory("--account", str(account)), s3)
    result = deployment.dags_test()
    assert result.returncode == 0, _failure(result)
    # The sensor found the proceeds unsettled, deferred to the trigger, and resumed.
    assert "deferring until settled" in result.stdout + result.stderr
    (report,) = deployment.reports()
    assert report["outcome"] == "success"
    budget = Decimal(report["buys"]["budget"])
    spent = sum(
        Decimal(o["filled_qty"]) * Decimal(o["filled_avg_price"]) for o in report["buys"]["orders"]
    )
    assert budget > 1000  # the buys saw the settled proceeds, not the $100 that was there
    assert spent <= budget


def test_make_run_starts_everything_and_prints_the_report(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AIRFLOW_CONN_ALPACA_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT", "AIRFLOW_HOME"}
    }
    env["ALCHEMISER_AIRFLOW_HOME"] = str(tmp_path / "airflow")
    env["ALCHEMISER_STATE_DIR"] = str(tmp_path / "state")
    env["PYTHONPATH"] = str(ROOT / "include")
    result = make_run(env)
    assert result.returncode == 0, _failure(result)
    assert "outcome SUCCESS" in result.stdout
    assert "Sells: success" in result.stdout
    assert "Buys: success" in result.stdout
    # No AWS: the state is in the local folder, the paper exchange's account beside it.
    assert f"{(tmp_path / 'state' / 'alchemiser').as_uri()}/runs/" in result.stdout
    assert "alc-" in (tmp_path / "state" / "paper-exchange.json").read_text()


def test_a_run_for_a_past_session_replays_and_never_reaches_the_order_endpoints(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    today = date.fromisoformat(deployment.session())
    past = calendar().previous_session(today - timedelta(days=7)).day
    result = deployment.dags_test(session=past.isoformat())
    assert result.returncode == 0, _failure(result)
    assert deployment.exchange_orders() == []
    listing = deployment.s3.list_objects_v2(Bucket=deployment.bucket, Prefix="replay/books/")
    assert [o["Key"] for o in listing["Contents"]] == [f"replay/books/{past}.json"]
    (report,) = deployment.reports(past.isoformat())
    assert report["outcome"] == "replayed"
    assert report["replay"]["fills"]
    assert report["sells"] is None


def test_plan_only_reports_the_plan_and_places_nothing(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    result = deployment.dags_test(plan_only=True)
    assert result.returncode == 0, _failure(result)
    assert deployment.exchange_orders() == []
    (report,) = deployment.reports()
    assert report["outcome"] == "plan_only"
    assert report["plan"]["items"]


def test_a_mode_that_does_not_match_the_connection_fails_before_any_order(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    result = deployment.dags_test(mode="live")
    assert result.returncode != 0
    assert "param mode='live' but connection alpaca_default is a paper account" in (
        result.stdout + result.stderr
    )
    assert deployment.exchange_orders() == []


def test_a_python_strategy_and_a_share_class_symphony_trade_through_the_dag(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    """portfolio-python.yaml: a symphony naming BRK/B and a Python strategy, on the exchange."""
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    with StatsdListener() as statsd:
        deployment.env.update(statsd.airflow_env())
        result = deployment.dags_test(portfolio="portfolio-python.yaml")
        received = statsd.names()
    assert result.returncode == 0, _failure(result)
    assert "airflow.alchemiser.strategy.warnings" in received, sorted(received)

    (report,) = deployment.reports()
    assert report["outcome"] == "success"
    kinds = {c["strategy"]: c["kind"] for c in report["targets"]["contributions"]}
    assert kinds == {"core": "fixed", "berkshire": "symphony", "dual-momentum": "python"}
    python = next(c for c in report["targets"]["contributions"] if c["kind"] == "python")
    assert python["trace"][0]["where"].startswith("python/dual_momentum.py:")
    # The symphony's BRK/B is the exchange's BRK.B: bought, filled, and on target.
    assert Decimal(
        next(w for w in report["targets"]["weights"] if w["symbol"] == "BRK.B")["weight"]
    ) >= Decimal("0.15")
    assert any(o["symbol"] == "BRK.B" and o["status"] == "filled" for o in report["buys"]["orders"])
    for row in report["weights"]:
        assert abs(Decimal(row["actual"]) - Decimal(row["target"])) < Decimal("0.01"), row
    keys = {o["Key"] for o in deployment.s3.list_objects_v2(Bucket=deployment.bucket)["Contents"]}
    assert "marketdata/bars/1Day/BRK_B.parquet" in keys
