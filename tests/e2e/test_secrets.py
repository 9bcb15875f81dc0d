"""`make run` with the connections already in the environment (how a user points it at a real
paper account or any Alpaca-compatible server), with canary credentials: it uses them, and leaks
neither the API key nor the secret: not in its output, logs, XComs or S3 objects."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sandbox.processes import Server
from sandbox.run import DEMO_ACCOUNT
from tests.e2e.conftest import Deployment, StartExchange, make_run

pytestmark = pytest.mark.e2e

KEY_ID = "PKLEAKCANARY7Q2W9E4R"
SECRET = "sk-leak-canary-9f8e7d6c5b4a3f2e1d0c"


def test_make_run_uses_the_connections_in_the_environment_and_leaks_no_credential(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange, tmp_path: Path
) -> None:
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    connection = json.loads(deployment.env["AIRFLOW_CONN_ALPACA_DEFAULT"])
    connection.update({"login": KEY_ID, "password": SECRET})
    deployment.env["AIRFLOW_CONN_ALPACA_DEFAULT"] = json.dumps(connection)
    home = tmp_path / "airflow"
    env = {**deployment.env, "ALCHEMISER_AIRFLOW_HOME": str(home)}
    env.pop("AIRFLOW_HOME")

    result = make_run(env)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert "using AIRFLOW_CONN_ALPACA_DEFAULT from the environment" in result.stdout
    assert "paper exchange at" not in result.stdout
    assert "outcome SUCCESS" in result.stdout
    assert deployment.exchange_orders()  # the orders went to the server we gave it
    assert f"s3://{deployment.bucket}/runs/" in result.stdout
    assert deployment.reports()  # the run did happen, with these credentials

    places: dict[str, str] = {"stdout": result.stdout, "stderr": result.stderr}
    for log_file in home.rglob("*"):  # task logs, and make run's log of `airflow dags test`
        if log_file.is_file() and log_file.suffix != ".db":
            places[str(log_file)] = log_file.read_text(errors="replace")
    with sqlite3.connect(home / "airflow.db") as db:
        for row in db.execute("SELECT dag_id, run_id, task_id, key, value FROM xcom"):
            places[f"xcom {row[:4]}"] = str(row[4])
    paginator = deployment.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=deployment.bucket):
        for obj in page.get("Contents", []):
            body = deployment.s3.get_object(Bucket=deployment.bucket, Key=obj["Key"])["Body"]
            places[f"s3 {obj['Key']}"] = body.read().decode(errors="replace")

    assert sum(p.startswith("xcom") for p in places) >= 5
    assert len(places) > 10
    leaks = [where for where, text in places.items() if KEY_ID in text or SECRET in text]
    assert leaks == []
