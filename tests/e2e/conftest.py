"""End-to-end fixtures: a migrated AIRFLOW_HOME, the paper exchange and a moto S3 server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from sandbox.environment import (
    airflow_env,
    alpaca_connection,
    aws_connection,
    create_sandbox_bucket,
)
from sandbox.processes import Server, exchange_orders, start_exchange, start_s3

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
ROOT = Path(__file__).resolve().parents[2]


def dag_variant(
    env: dict[str, str], conf: dict[str, Any] | list[dict[str, Any]], *changes: str
) -> tuple[list[str], dict[str, str]]:
    """Return the command and environment of `python -m tests.e2e.dag_variant` (run from ROOT):
    one run per conf, with `changes` applied; it imports the tests, the package and the plugins.
    """
    paths = (ROOT, ROOT / "include", ROOT / "plugins")
    args = [sys.executable, "-m", "tests.e2e.dag_variant", json.dumps(conf), *changes]
    return args, {**env, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}


def make_run(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m sandbox run` (`make run`) with `env` and return what it did."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "run", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow-home")
    subprocess.run(
        [AIRFLOW, "db", "migrate"],
        env=airflow_env(home),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return home


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_s3(tmp_path_factory.mktemp("s3-logs")) as server:
        yield server


StartExchange = Callable[..., Server]


@pytest.fixture
def exchange_factory(tmp_path: Path) -> Iterator[StartExchange]:
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = start_exchange(tmp_path / "exchange", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Deployment:
    """One exchange + the shared S3 server + AIRFLOW_HOME: runs the DAG and reads results."""

    def __init__(self, home: Path, exchange: Server, s3: Server) -> None:
        self.exchange = exchange
        self.bucket = f"e2e-{uuid.uuid4().hex[:12]}"  # one bucket per deployment: no crosstalk
        self.env = airflow_env(home)
        self.env["AIRFLOW_VAR_ALCHEMISER_BUCKET"] = self.bucket
        self.env["AIRFLOW_CONN_ALPACA_DEFAULT"] = alpaca_connection(exchange.url)
        self.env["AIRFLOW_CONN_AWS_DEFAULT"] = aws_connection(s3.url)
        self.s3 = boto3.client(
            "s3",
            endpoint_url=s3.url,
            aws_access_key_id="e2e",
            aws_secret_access_key="e2e",
            region_name="us-east-1",
        )
        create_sandbox_bucket(self.s3, self.bucket)

    def session(self) -> str:
        return str(
            requests.get(f"{self.exchange.url}/_exchange/health", timeout=5).json()["session"]
        )

    def dags_test(self, **conf: Any) -> subprocess.CompletedProcess[str]:
        conf.setdefault("session", self.session())
        return subprocess.run(
            [AIRFLOW, "dags", "test", "daily_rebalance", "-c", json.dumps(conf)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def dags_test_each(self, confs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
        """Run the DAG once per conf, in order, in one process (`tests.e2e.dag_variant`).

        What several `airflow dags test` runs do, with Airflow started once instead of per run.
        """
        args, env = dag_variant(self.env, confs)
        return subprocess.run(
            args,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600 * len(confs),
            check=False,
        )

    def exchange_orders(self) -> list[dict[str, Any]]:
        return exchange_orders(self.exchange.url)

    def reports(self, session: str | None = None) -> list[dict[str, Any]]:
        prefix = f"runs/{session or self.session()}/"
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        keys = sorted(
            (o for o in listing.get("Contents", []) if o["Key"].endswith("/report.json")),
            key=lambda o: o["LastModified"],
        )
        return [
            json.loads(self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read())
            for o in keys
        ]
