"""The environment Airflow runs in locally: project-local AIRFLOW_HOME, folders, connections."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from alchemiser.defaults import DEFAULT_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PROJECT = Path(__file__).resolve().parents[2]
"""The checkout: include/sandbox/ is three levels below it."""

DEMO_KEY_ID = "sandbox-key"
DEMO_SECRET = "sandbox-secret"  # noqa: S105 - the local paper exchange accepts any credentials
SANDBOX_EXECUTION = json.dumps({"step_interval_seconds": 2, "poll_interval_seconds": 0.5})


def airflow_env(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return `base` (default: os.environ) with the settings every Airflow process here needs."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES": "airflow.* alchemiser.*",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT / "include"), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    env.setdefault("AIRFLOW_VAR_ALCHEMISER_BUCKET", DEFAULT_BUCKET)
    # The demo walks each limit faster than a real session would (2 s steps instead of 10 s)
    # so that `make run` and the end-to-end tests finish in seconds; set the Variable to change.
    env.setdefault("AIRFLOW_VAR_ALCHEMISER_EXECUTION", SANDBOX_EXECUTION)
    return env


def use_local_store(env: dict[str, str], folder: Path) -> None:
    """Point every Airflow process of `env` at the local store in `folder` instead of S3."""
    env["AIRFLOW_VAR_ALCHEMISER_STATE_DIR"] = str(folder)
    env.pop("AIRFLOW_CONN_AWS_DEFAULT", None)


def alpaca_connection(base_url: str) -> str:
    """Return AIRFLOW_CONN_ALPACA_DEFAULT for an Alpaca-compatible server at `base_url`."""
    return json.dumps(
        {
            "conn_type": "http",
            "host": base_url,
            "login": DEMO_KEY_ID,
            "password": DEMO_SECRET,
            "extra": {"paper": True},
        }
    )


def aws_connection(endpoint_url: str) -> str:
    """Return AIRFLOW_CONN_AWS_DEFAULT for an S3-compatible server at `endpoint_url`."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "sandbox",
            "password": "sandbox",
            "extra": {"endpoint_url": endpoint_url, "region_name": "us-east-1"},
        }
    )


def create_sandbox_bucket(client: S3Client, bucket: str) -> None:
    """Create the local S3 server's bucket, with run artifacts readable without credentials.

    Only for the sandbox's own S3 server on loopback: it lets the report task's "Run report"
    link open in a browser. A real bucket keeps its own policy (the link then goes to the AWS
    console, which asks for a login).
    """
    client.create_bucket(Bucket=bucket)
    client.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/runs/*",
                    }
                ],
            }
        ),
    )
