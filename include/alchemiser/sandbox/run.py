"""`make run`: one full daily_rebalance run on the embedded defaults, then its report.

Starts what is not configured (the paper exchange unless AIRFLOW_CONN_ALPACA_DEFAULT is set,
the S3 server unless AIRFLOW_CONN_AWS_DEFAULT is set), runs the DAG with `airflow dags test`
for the broker's current session, prints the report, and stops what it started.
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
from typing import TYPE_CHECKING, cast

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import BaseHook

from alchemiser.adapters.airflow.connections import ALPACA_CONN_ID, AWS_CONN_ID, alpaca_settings
from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.domain.sessions import session_of
from alchemiser.sandbox.environment import (
    DEMO_BUCKET,
    PROJECT,
    airflow_env,
    alpaca_connection,
    aws_connection,
    create_sandbox_bucket,
)
from alchemiser.sandbox.processes import SandboxError, start_exchange, start_s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEMO_ACCOUNT = Path(__file__).with_name("demo_account.json")
DAG_ID = "daily_rebalance"
AIRFLOW_TIMEOUT_SECONDS = 900


def _say(message: str) -> None:
    print(f"[make run] {message}", flush=True)  # noqa: T201 - this is a CLI


def run(home: Path) -> int:
    """Run one daily_rebalance and print its report; return the process exit code."""
    logs = home / "sandbox-logs"
    env = airflow_env(home)
    with ExitStack() as stack:
        if "AIRFLOW_CONN_ALPACA_DEFAULT" not in os.environ:
            exchange = stack.enter_context(start_exchange(logs, "--account", str(DEMO_ACCOUNT)))
            env["AIRFLOW_CONN_ALPACA_DEFAULT"] = alpaca_connection(exchange.url)
            _say(f"paper exchange at {exchange.url} (log {exchange.log_path})")
        else:
            _say("using AIRFLOW_CONN_ALPACA_DEFAULT from the environment")
        own_s3 = "AIRFLOW_CONN_AWS_DEFAULT" not in os.environ
        if own_s3:
            s3 = stack.enter_context(start_s3(logs))
            env["AIRFLOW_CONN_AWS_DEFAULT"] = aws_connection(s3.url)
            _say(f"S3 server at {s3.url} (log {s3.log_path})")
        else:
            _say("using AIRFLOW_CONN_AWS_DEFAULT from the environment")
        os.environ.update(env)  # the hooks below read connections from the environment
        logging.getLogger("airflow").setLevel(logging.WARNING)  # keep the terminal for the report
        bucket = env.get("AIRFLOW_VAR_ALCHEMISER_BUCKET", DEMO_BUCKET)
        client = cast("S3Client", S3Hook(aws_conn_id=AWS_CONN_ID).get_conn())
        if own_s3:
            create_sandbox_bucket(client, bucket)
        broker = AlpacaBroker(alpaca_settings(BaseHook.get_connection(ALPACA_CONN_ID)))
        clock = broker.get_clock()
        session = session_of(clock.timestamp)
        _say(f"broker session {session}, market {'open' if clock.is_open else 'CLOSED'}")

        _airflow(["db", "migrate"], env, logs / "airflow-db.log")
        log_path = logs / f"dags-test-{session}.log"
        _say(f"running {DAG_ID} with airflow dags test (log {log_path})")
        code = _airflow(
            ["dags", "test", DAG_ID, "-c", json.dumps({"session": session.isoformat()})],
            env,
            log_path,
        )
        report = _latest_report(client, bucket, session)
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


def _latest_report(client: S3Client, bucket: str, session: date) -> str | None:
    prefix = f"runs/{session.isoformat()}/"
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    reports = [o for o in listing.get("Contents", []) if o["Key"].endswith("/report.txt")]
    if not reports:
        _say(f"no report under s3://{bucket}/{prefix}")
        return None
    newest = max(reports, key=lambda o: o["LastModified"])
    body = client.get_object(Bucket=bucket, Key=newest["Key"])["Body"].read()
    return str(body.decode())


def main() -> int:
    """Entry point of `python -m alchemiser.sandbox run`."""
    home = Path(os.environ.get("ALCHEMISER_AIRFLOW_HOME", PROJECT / ".airflow"))
    try:
        return run(home)
    except SandboxError as exc:
        _say(str(exc))
        return 1
