"""Chaos through a real Airflow: killed workers, clears from the UI, second and concurrent runs.

One deployment for the module (`sandbox.deployment`: api-server, scheduler,
dag-processor, triggerer, LocalExecutor on a fresh PostgreSQL database) with the paper exchange
and a moto S3 server, driven only through the REST API v2 as the UI does. The scenarios share
one trading session, in order: two runs triggered at once, the first one's `execute_sells`
worker SIGKILLed mid-walk and retried by Airflow; then clears of single tasks and of the whole
run; then a second manual run. Each ends with the exchange's order log (the oracle) holding
exactly one order per client order id, one chain per intent of the one run that traded, and
the ledger on S3 matching the broker.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.keys import run_prefix
from alchemiser.domain.plan import RebalancePlan
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.services.context import RunContext
from sandbox.deployment import DAG_ID, Deployment, DeploymentConfig
from tests.chaos.harness import ledger_problems, order_problems

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(900)]

ACCOUNT = {"cash": "500", "account_type": "margin", "positions": {"XLE": "2000", "SPY": "40"}}
SLOW = {"delay": {"seconds": 0.7, "routes": ["GET /v2/orders", "POST /v2/orders"]}}
KILL_WAIT_SECONDS = 240.0
SANDBOX_SETTINGS = ExecutionSettings(step_interval_seconds=2, poll_interval_seconds=0.5)


@dataclass
class Venue:
    """The deployment and what a test needs to read its exchange, store and ledger."""

    deployment: Deployment
    store: S3ObjectStore
    broker: AlpacaBroker

    @property
    def exchange_url(self) -> str:
        assert self.deployment.exchange is not None
        return self.deployment.exchange.url

    @property
    def session(self) -> date:
        return date.fromisoformat(self.deployment.exchange_session())

    def faults(self, body: dict[str, Any]) -> None:
        response = requests.post(f"{self.exchange_url}/_exchange/faults", json=body, timeout=10)
        assert response.status_code == 200, response.text

    def ledger(self) -> TradeLedger:
        return TradeLedger(self.store, self.broker.get_account().account_id, SystemClock())

    def artifact(self, run_id: str, name: str) -> bytes:
        return self.store.get(f"{run_prefix(self.session, run_id)}/{name}")

    def plan(self, run_id: str) -> RebalancePlan:
        return RebalancePlan.model_validate_json(self.artifact(run_id, "rebalance_plan.json"))

    def problems(self, trading_run: str, plan: RebalancePlan) -> list[str]:
        """Exactly-once from the oracle for the run that traded (and the plan it traded), and
        the ledger against the broker."""
        run = RunContext(
            dag_id=DAG_ID, run_id=trading_run, session=self.session, session_source="param"
        )
        orders = self.deployment.exchange_orders()
        return order_problems(orders, plan, run, SANDBOX_SETTINGS) + ledger_problems(
            self.ledger(), self.broker, self.session
        )


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    home = tmp_path_factory.mktemp("chaos-deployment")
    account = home / "account.json"
    account.write_text(json.dumps(ACCOUNT))
    config = DeploymentConfig(
        home=home,
        database="postgres",
        exchange_args=("--account", str(account), "--limit-fill-fraction", "0.6"),
    )
    with Deployment(config) as deployment:
        deployment.unpause()
        assert deployment.s3 is not None
        assert deployment.exchange is not None
        client = boto3.client(
            "s3",
            endpoint_url=deployment.s3.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        settings = AlpacaSettings(key_id="k", secret_key="s", base_url=deployment.exchange.url)
        yield Venue(deployment, S3ObjectStore(client, config.bucket), AlpacaBroker(settings))


def _task_runner_pid(venue: Venue, run_id: str, task_id: str) -> int | None:
    """Return the pid of the process running the task's code (`airflow worker -- <ti id>`)."""
    ti = venue.deployment._request("GET", f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}")
    title = f"airflow worker -- {ti['id']}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if cmdline.startswith(title):
            return int(entry.name)
    return None


@dataclass(frozen=True)
class Chaos:
    """What happened to the two runs triggered together."""

    first: str
    second: str
    killed_pid: int
    orders_at_kill: int
    plan: RebalancePlan
    """The plan the first run traded (a cleared run re-plans and overwrites the artifact)."""


@pytest.fixture(scope="module")
def two_runs_one_killed(venue: Venue) -> Chaos:
    """Trigger two runs at once on a slow exchange; SIGKILL the first one's sells mid-walk."""
    d = venue.deployment
    venue.faults(SLOW)
    session = str(venue.session)
    first = d.trigger({"session": session})
    second = d.trigger({"session": session})
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    pid = None
    orders: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        orders = [o for o in d.exchange_orders() if o["side"] == "sell"]
        if orders:
            pid = _task_runner_pid(venue, first, "execute_sells")
            if pid is not None:
                break
        time.sleep(0.2)
    assert pid is not None, f"execute_sells never placed an order:\n{d.describe_run(first)}"
    os.kill(pid, signal.SIGKILL)
    orders_at_kill = len(d.exchange_orders())
    venue.faults({})
    first_run = d.wait_for_run(first)
    second_run = d.wait_for_run(second)
    assert first_run.state == "success", d.describe_run(first)
    assert second_run.state == "success", d.describe_run(second)
    return Chaos(first, second, pid, orders_at_kill, venue.plan(first))


def test_a_sigkilled_sell_worker_is_retried_and_adopts_its_orders(
    venue: Venue, two_runs_one_killed: Chaos
) -> None:
    d = venue.deployment
    sells = d.task_instances(two_runs_one_killed.first)["execute_sells"]
    assert sells.state == "success"
    assert sells.try_number == 2  # the killed try, then Airflow's retry
    assert two_runs_one_killed.orders_at_kill >= 1
    assert venue.problems(two_runs_one_killed.first, two_runs_one_killed.plan) == []


def test_of_two_runs_triggered_at_once_only_one_trades(
    venue: Venue, two_runs_one_killed: Chaos
) -> None:
    second = two_runs_one_killed.second
    report = json.loads(venue.artifact(second, "report.json"))
    assert report["outcome"] == "already_rebalanced"
    assert two_runs_one_killed.first in report["note"]
    tis = venue.deployment.task_instances(second)
    assert tis["execute_sells"].state == "skipped"
    assert tis["execute_buys"].state == "skipped"
    # Every order at the exchange belongs to the first run's intents (checked per id).
    assert venue.problems(two_runs_one_killed.first, two_runs_one_killed.plan) == []


@pytest.mark.parametrize("task_id", ["execute_sells", "execute_buys"])
def test_clearing_a_successful_phase_reruns_it_without_touching_the_book(
    venue: Venue, two_runs_one_killed: Chaos, task_id: str
) -> None:
    d = venue.deployment
    run_id = two_runs_one_killed.first
    before_orders = d.exchange_orders()
    before = d.task_instances(run_id)[task_id]
    assert d.clear_task(run_id, task_id) == [task_id]
    rerun = d.wait_for_task(
        run_id, task_id, lambda ti: ti.try_number > before.try_number and ti.state == "success"
    )
    assert d.wait_for_run(run_id).state == "success", d.describe_run(run_id)
    assert d.exchange_orders() == before_orders
    log = d.task_log(run_id, task_id, rerun.try_number)
    assert "already done: returning the recorded result" in log
    assert venue.problems(run_id, two_runs_one_killed.plan) == []


def test_clearing_the_whole_run_reruns_it_without_new_orders(
    venue: Venue, two_runs_one_killed: Chaos
) -> None:
    d = venue.deployment
    run_id = two_runs_one_killed.first
    before_orders = d.exchange_orders()
    d._request(
        "POST",
        f"dags/{DAG_ID}/clearTaskInstances",
        json={"dag_run_id": run_id, "dry_run": False, "only_failed": False},
    )
    run = d.wait_for_run(run_id)
    assert run.state == "success", d.describe_run(run_id)
    assert d.task_instances(run_id)["execute_sells"].try_number >= 3
    assert d.exchange_orders() == before_orders
    assert venue.problems(run_id, two_runs_one_killed.plan) == []


def test_a_second_manual_run_for_the_session_plans_but_places_nothing(
    venue: Venue, two_runs_one_killed: Chaos
) -> None:
    d = venue.deployment
    before_orders = d.exchange_orders()
    run_id = d.trigger({"session": str(venue.session)})
    assert d.wait_for_run(run_id).state == "success", d.describe_run(run_id)
    assert d.exchange_orders() == before_orders
    report = json.loads(venue.artifact(run_id, "report.json"))
    assert report["outcome"] == "already_rebalanced"
    assert "force=true" in report["note"]
    assert venue.artifact(run_id, "rebalance_plan.json")  # it planned all the same
    assert venue.problems(two_runs_one_killed.first, two_runs_one_killed.plan) == []


def test_a_worker_sigkilled_on_its_last_try_leaves_nothing_working(
    venue: Venue, two_runs_one_killed: Chaos
) -> None:
    # Runs last in the module: a forced run for the same session with another portfolio (so it
    # has trades), whose limits never fill, and whose execute_sells worker is SIGKILLed on
    # every try. After the last try the teardown must cancel what the run left at the broker.
    d = venue.deployment
    symbols = [a["symbol"] for a in _assets(venue)]
    venue.faults({"halted": symbols})
    before = {o["client_order_id"] for o in d.exchange_orders()}
    run_id = d.trigger(
        {"session": str(venue.session), "force": True, "portfolio": "portfolio-python.yaml"}
    )
    killed = []
    for try_number in (1, 2, 3):
        pid = _wait_for_new_order_and_runner(venue, run_id, before, try_number)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    run = d.wait_for_run(run_id)
    venue.faults({})
    assert run.state == "failed", d.describe_run(run_id)
    sells = d.task_instances(run_id)["execute_sells"]
    assert (sells.state, sells.try_number) == ("failed", 3)
    mine = [o for o in d.exchange_orders() if o["client_order_id"] not in before]
    assert mine, "the forced run placed orders before it was killed"
    assert [o for o in mine if o["status"] in ("new", "accepted", "partially_filled")] == []
    assert ledger_problems(venue.ledger(), venue.broker, venue.session) == []
    report = json.loads(venue.artifact(run_id, "report.json"))
    assert report["outcome"] == "failed"
    assert report["orders"]["open"] == 0
    assert report["orders"]["canceled"] >= 1
    assert [f["task_id"] for f in report["failures"]] == ["execute_sells"]
    assert d.task_instances(run_id)["report"].state == "success"


def _assets(venue: Venue) -> list[dict[str, Any]]:
    headers = {"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
    response = requests.get(f"{venue.exchange_url}/v2/assets", headers=headers, timeout=10)
    response.raise_for_status()
    return list(response.json())


def _wait_for_new_order_and_runner(
    venue: Venue, run_id: str, before: set[str], try_number: int
) -> int:
    """Return the pid of execute_sells' try `try_number` once it has an order of its own out."""
    d = venue.deployment
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while time.monotonic() < deadline:
        ti = d.task_instances(run_id).get("execute_sells")
        ours = [o for o in d.exchange_orders() if o["client_order_id"] not in before]
        if ti is not None and ti.state == "running" and ti.try_number == try_number and ours:
            pid = _task_runner_pid(venue, run_id, "execute_sells")
            if pid is not None:
                return pid
        time.sleep(0.3)
    raise AssertionError(f"try {try_number} of execute_sells never ran:\n{d.describe_run(run_id)}")
