"""`make run`: one full daily_rebalance run on the embedded defaults, then its report.

Starts the paper exchange unless AIRFLOW_CONN_ALPACA_DEFAULT is set, keeps the state in the
local store (`.alchemiser-state/`, $ALCHEMISER_STATE_DIR) unless AIRFLOW_CONN_AWS_DEFAULT is
set, runs the DAG with `airflow dags test` for the broker's current session, prints the report,
and stops what it started. The paper exchange keeps its account in the same folder, so the
ledger and the account it describes survive together from one `make run` to the next.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from alchemiser.adapters.airflow.connections import alpaca_from_connection, aws_connection_client
from alchemiser.bootstrap import build_broker, build_store
from alchemiser.defaults import DEFAULT_BUCKET, EXCHANGE_STATE, state_dir
from alchemiser.domain.keys import REPORT_TEXT, session_runs_prefix
from alchemiser.domain.sessions import session_of
from alchemiser.ports import ObjectStore
from sandbox.environment import (
    PROJECT,
    airflow_env,
    alpaca_connection,
    use_local_store,
)
from sandbox.processes import SandboxError, start_exchange

DEMO_ACCOUNT = Path(__file__).with_name("demo_account.json")
DAG_ID = "daily_rebalance"
AIRFLOW_TIMEOUT_SECONDS = 900


def _say(message: str) -> None:
    print(f"[make run] {message}", flush=True)  # noqa: T201 - this is a CLI


def run(home: Path, *, force: bool = False) -> int:
    """Run one daily_rebalance and print its report; return the process exit code.

    `force` is the DAG's param: trade a session already rebalanced (and past the signal gate).
    """
    logs = home / "sandbox-logs"
    env = airflow_env(home)
    state = state_dir()
    with ExitStack() as stack:
        if "AIRFLOW_CONN_ALPACA_DEFAULT" not in os.environ:
            account = state / EXCHANGE_STATE
            exchange = stack.enter_context(
                start_exchange(logs, "--account", str(DEMO_ACCOUNT), "--state", str(account))
            )
            env["AIRFLOW_CONN_ALPACA_DEFAULT"] = alpaca_connection(exchange.url)
            _say(f"paper exchange at {exchange.url}, account kept in {account}")
        else:
            _say("using AIRFLOW_CONN_ALPACA_DEFAULT from the environment")
        if "AIRFLOW_CONN_AWS_DEFAULT" not in os.environ:
            use_local_store(env, state)
        else:
            _say("using AIRFLOW_CONN_AWS_DEFAULT from the environment")
        os.environ.update(env)  # the hooks below read connections from the environment
        logging.getLogger("airflow").setLevel(logging.WARNING)  # keep the terminal for the report
        store = build_store(
            env.get("AIRFLOW_VAR_ALCHEMISER_BUCKET", DEFAULT_BUCKET),
            env.get("AIRFLOW_VAR_ALCHEMISER_STATE_DIR", ""),
            aws_connection_client,
        )
        _say(f"state (ledger, runs, reports) in {store.bucket}")
        broker = build_broker(alpaca_from_connection())
        clock = broker.get_clock()
        session = session_of(clock.timestamp)
        _say(f"broker session {session}, market {'open' if clock.is_open else 'CLOSED'}")

        _airflow(["db", "migrate"], env, logs / "airflow-db.log")
        log_path = logs / f"dags-test-{session}.log"
        conf: dict[str, object] = {"session": session.isoformat()}
        if force:
            conf["force"] = True
        _say(f"running {DAG_ID} with airflow dags test {json.dumps(conf)} (log {log_path})")
        earlier = _reports(store, session)
        code = _airflow(["dags", "test", DAG_ID, "-c", json.dumps(conf)], env, log_path)
        report = _new_report(store, session, earlier)
        if report is not None:
            print(report)  # noqa: T201
        if code != 0:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
            _say(f"airflow dags test failed with exit code {code}; end of its log:\n{tail}")
        return code


def _airflow(args: list[str], env: dict[str, str], log_path: Path) -> int:
    airflow = Path(sys.executable).with_name("airflow")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        completed = subprocess.run(  # noqa: S603 - our own venv's airflow, fixed arguments
            [str(airflow), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=AIRFLOW_TIMEOUT_SECONDS,
            check=False,
        )
    return completed.returncode


def _reports(store: ObjectStore, session: date) -> set[str]:
    return {
        k for k in store.list_keys(session_runs_prefix(session)) if k.endswith(f"/{REPORT_TEXT}")
    }


def _new_report(store: ObjectStore, session: date, earlier: set[str]) -> str | None:
    """Return the text report this run wrote (the store also holds earlier runs' reports)."""
    new = sorted(_reports(store, session) - earlier)
    if not new:
        _say(f"no new report under {store.bucket}/{session_runs_prefix(session)}")
        return None
    return store.get(new[-1]).decode()


def main(*, force: bool = False) -> int:
    """Entry point of `python -m sandbox run [--force]`."""
    home = Path(os.environ.get("ALCHEMISER_AIRFLOW_HOME", PROJECT / ".airflow"))
    try:
        return run(home, force=force)
    except SandboxError as exc:
        _say(str(exc))
        return 1
