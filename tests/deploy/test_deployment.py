"""daily_rebalance on a real multi-process Airflow, driven only through the REST API v2.

Each executor gets one deployment for the module (`sandbox.deployment`): api-server,
scheduler, dag-processor, triggerer on a fresh PostgreSQL database, with LocalExecutor or with
CeleryExecutor and two workers on Redis, plus the paper exchange (a cash account, so the
settlement sensor must defer) and a moto S3 server. The exchange's order log is the oracle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from paper_exchange.calendar import MarketCalendar
from sandbox.deployment import DagRun, Deployment, DeploymentConfig, Executor

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(900)]

NEW_YORK = ZoneInfo("America/New_York")
CASH_ACCOUNT = {
    "cash": "100",
    "account_type": "cash",
    # Settles after the sensor first looks (even on a loaded machine) and inside its 30 s wait.
    "settlement_delay_seconds": 20,
    "positions": {"XLE": "2000", "SPY": "40"},
}
BACKFILL_SESSIONS = 3  # several sessions in order; a fourth would repeat the same path
TRADING_PATH = ("execute_sells", "await_settlement", "execute_buys", "report")


@pytest.fixture(scope="module", params=["LocalExecutor", "CeleryExecutor"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    executor: Executor = request.param
    home = tmp_path_factory.mktemp(f"deployment-{executor}")
    account = home / "cash-account.json"
    account.write_text(json.dumps(CASH_ACCOUNT))
    config = DeploymentConfig(
        home=home,
        executor=executor,
        database="postgres",
        exchange_args=("--account", str(account)),
    )
    with Deployment(config) as started:
        started.unpause()
        yield started


@dataclass(frozen=True)
class Rebalanced:
    run: DagRun
    orders: list[dict[str, object]]


@pytest.fixture(scope="module")
def rebalanced(deployment: Deployment) -> Rebalanced:
    """Trigger daily_rebalance for the exchange's session, like the UI's trigger form."""
    run_id = deployment.trigger({"session": deployment.exchange_session()})
    run = deployment.wait_for_run(run_id)
    assert run.state == "success", deployment.describe_run(run_id)
    return Rebalanced(run, deployment.exchange_orders())


def test_a_triggered_run_trades_and_its_sensor_defers_to_the_triggerer(
    deployment: Deployment, rebalanced: Rebalanced
) -> None:
    run_id = rebalanced.run.run_id
    assert rebalanced.run.conf == {"session": deployment.exchange_session()}
    tis = deployment.task_instances(run_id)
    states = {t: ti.state for t, ti in tis.items()}
    assert {t: states.get(t) for t in TRADING_PATH} == dict.fromkeys(TRADING_PATH, "success")
    assert set(states.values()) <= {"success", "skipped"}, states

    ids = [str(o["client_order_id"]) for o in rebalanced.orders]
    assert ids
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("alc-") for i in ids)
    assert {o["side"] for o in rebalanced.orders} == {"sell", "buy"}

    # The sensor checked once in a worker, deferred, the triggerer fired its trigger, and a
    # worker resumed it: one try, `deferred` between two `running` in the audit log.
    sensor = tis["await_settlement"]
    assert sensor.try_number == 1
    assert [t for t, ti in tis.items() if ti.deferred] == ["await_settlement"]
    events = deployment.task_events(run_id, "await_settlement")
    assert "deferred" in events, events
    deferred_at = events.index("deferred")
    assert "running" in events[:deferred_at], events
    assert "running" in events[deferred_at + 1 :], events
    log = deployment.task_log(run_id, "await_settlement", sensor.try_number)
    assert "deferring until settled" in log
    assert "sells settled" in log


def test_clearing_execute_sells_reruns_it_without_new_orders(
    deployment: Deployment, rebalanced: Rebalanced
) -> None:
    run_id = rebalanced.run.run_id
    before = deployment.task_instances(run_id)["execute_sells"]

    assert deployment.clear_task(run_id, "execute_sells") == ["execute_sells"]
    rerun = deployment.wait_for_task(
        run_id,
        "execute_sells",
        lambda ti: ti.try_number > before.try_number and ti.state in {"success", "failed"},
    )
    run = deployment.wait_for_run(run_id)

    assert rerun.state == "success", deployment.describe_run(run_id)
    assert run.state == "success", deployment.describe_run(run_id)
    # The re-run adopted the orders its first try placed: the exchange saw nothing new.
    assert deployment.exchange_orders() == rebalanced.orders


@pytest.mark.parametrize("deployment", ["LocalExecutor"], indirect=True)
def test_a_backfill_of_past_sessions_replays_them_without_placing_orders(
    deployment: Deployment,
) -> None:
    sessions = _past_sessions(date.fromisoformat(deployment.exchange_session()))
    orders_before = deployment.exchange_orders()

    backfill_id = deployment.create_backfill(
        _new_york(sessions[0], time(0, 0)), _new_york(sessions[-1], time(23, 59))
    )
    deployment.wait_for_backfill(backfill_id, timeout=420)

    # Replay, never trading: not one order reached the exchange, whatever the runs did.
    assert deployment.exchange_orders() == orders_before
    runs = deployment.runs(run_type="backfill")
    assert [_session_of(r) for r in runs] == sessions
    failed = [r for r in runs if r.state != "success"]
    assert failed == [], "\n\n".join(
        f"{r.run_id}: {r.state}\n{deployment.describe_run(r.run_id)}" for r in failed
    )


def _past_sessions(current: date) -> list[date]:
    """Return the latest BACKFILL_SESSIONS consecutive sessions before `current` with no
    weekday holiday among them (a cron schedule would run on that holiday too)."""
    calendar = MarketCalendar()
    last = calendar.previous_session(current)
    while True:
        window = [last]
        while len(window) < BACKFILL_SESSIONS:
            window.insert(0, calendar.previous_session(window[0]))
        weekdays = [
            window[0] + timedelta(days=n)
            for n in range((window[-1] - window[0]).days + 1)
            if (window[0] + timedelta(days=n)).weekday() < 5
        ]
        if weekdays == window:
            return window
        last = calendar.previous_session(last)


def _new_york(day: date, at: time) -> str:
    return datetime.combine(day, at, tzinfo=NEW_YORK).isoformat()


def _session_of(run: DagRun) -> date:
    assert run.logical_date is not None
    return datetime.fromisoformat(run.logical_date).astimezone(NEW_YORK).date()
