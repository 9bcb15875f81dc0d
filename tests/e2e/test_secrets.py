"""A full run leaks neither the API key nor the secret: not in logs, XComs or S3 objects."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sandbox.processes import Server
from sandbox.run import DEMO_ACCOUNT
from tests.e2e.conftest import Deployment, StartExchange

pytestmark = pytest.mark.e2e

KEY_ID = "PKLEAKCANARY7Q2W9E4R"
SECRET = "sk-leak-canary-9f8e7d6c5b4a3f2e1d0c"


def test_a_full_run_keeps_the_credentials_out_of_logs_xcoms_and_s3(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange
) -> None:
    deployment = Deployment(airflow_home, exchange_factory("--account", str(DEMO_ACCOUNT)), s3)
    connection = json.loads(deployment.env["AIRFLOW_CONN_ALPACA_DEFAULT"])
    connection.update({"login": KEY_ID, "password": SECRET})
    deployment.env["AIRFLOW_CONN_ALPACA_DEFAULT"] = json.dumps(connection)

    result = deployment.dags_test()
    assert result.returncode == 0, result.stdout[-3000:]
    assert deployment.reports()  # the run did happen, with these credentials

    places: dict[str, str] = {"stdout": result.stdout, "stderr": result.stderr}
    for log_file in (airflow_home / "logs").rglob("*"):
        if log_file.is_file():
            places[str(log_file)] = log_file.read_text(errors="replace")
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        for row in db.execute("SELECT dag_id, run_id, task_id, key, value FROM xcom"):
            places[f"xcom {row[:4]}"] = str(row[4])
    paginator = deployment.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=deployment.bucket):
        for obj in page.get("Contents", []):
            body = deployment.s3.get_object(Bucket=deployment.bucket, Key=obj["Key"])["Body"]
            places[f"s3 {obj['Key']}"] = body.read().decode(errors="replace")

    assert len(places) > 10
    leaks = [where for where, text in places.items() if KEY_ID in text or SECRET in text]
    assert leaks == []
