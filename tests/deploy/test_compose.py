"""docker-compose.yaml gives every Airflow part the same image, code and settings.

The structural tests read the file as YAML and resolve `${VAR:-default}` the way Compose does;
when `docker compose` or `docker-compose` is on PATH, Compose itself validates the file too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.sdk.definitions.connection import Connection

from alchemiser.adapters.airflow.connections import alpaca_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
)
CODE_MOUNTS = {
    "/opt/airflow/dags": "./dags",
    "/opt/airflow/plugins": "./plugins",
    "/opt/airflow/include": "./include",
}
# Compose's rule: the default runs to the first `}`; `$$` is a literal dollar.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve `${VAR}`, `${VAR-default}` and `${VAR:-default}` against `env`."""

    def _one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group("name", "op", "default")
        if name in env and not (op == ":-" and env[name] == ""):
            return env[name]
        return default or ""

    return _VARIABLE.sub(_one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def env_of(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    raw = service.get("environment") or {}
    assert isinstance(raw, dict), "environment must be a mapping so services can merge it"
    return {k: interpolate(str(v), env or {}) for k, v in raw.items()}


def mounts_of(service: dict[str, Any]) -> dict[str, str]:
    result = {}
    for volume in service.get("volumes", []):
        source, target = interpolate(volume, {}).split(":")[:2]
        result[target] = source
    return result


def test_all_airflow_parts_are_present(services: dict[str, Any]) -> None:
    assert set(AIRFLOW_SERVICES) <= set(services)
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert services["airflow-worker"]["command"] == "celery worker"
    init_env = env_of(services["airflow-init"])
    assert init_env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert init_env["_AIRFLOW_WWW_USER_CREATE"] == "true"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_every_airflow_part_imports_alchemiser_the_same_way(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    env = env_of(service)
    assert env["PYTHONPATH"] == "/opt/airflow/include"
    assert env["AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES"] == "airflow.* alchemiser.*"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["AIRFLOW_VAR_ALCHEMISER_BUCKET"] == "alchemiser"
    assert mounts_of(service).items() >= CODE_MOUNTS.items()
    assert interpolate(service["image"], {}) == "alchemiser-airflow:3.3.2"
    assert service["build"]["dockerfile"] == "Dockerfile"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_celery_runs_on_redis_and_postgres_with_execution_api_url(
    services: dict[str, Any], name: str
) -> None:
    env = env_of(services[name])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        "http://airflow-apiserver:8080/execution/"
    )
    # Without one shared secret, workers' execution-API tokens fail verification.
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert {"redis", "postgres"} <= set(services[name]["depends_on"])


def test_worker_can_be_scaled(services: dict[str, Any]) -> None:
    worker = services["airflow-worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker


def test_paper_exchange_and_s3_services_back_the_default_connections(
    services: dict[str, Any],
) -> None:
    exchange = services["paper-exchange"]
    assert exchange["command"][:3] == ["python", "-m", "paper_exchange"]
    assert "--allow-remote" in exchange["command"]
    assert "8090" in exchange["command"]
    assert "ports" not in exchange, "the exchange accepts any credentials: never publish it"
    assert "s3" in services
    assert services["s3-init"]["depends_on"]["s3"]["condition"] == "service_healthy"

    env = env_of(services["airflow-worker"])
    alpaca = Connection.from_uri(env["AIRFLOW_CONN_ALPACA_DEFAULT"], conn_id="alpaca_default")
    settings = alpaca_settings(alpaca)
    assert settings.base_url == "http://paper-exchange:8090"
    assert settings.paper is True
    aws = Connection.from_uri(env["AIRFLOW_CONN_AWS_DEFAULT"], conn_id="aws_default")
    assert aws.conn_type == "aws"
    assert aws.extra_dejson["endpoint_url"] == "http://s3:5000"


def test_user_set_json_connections_pass_through_unchanged(services: dict[str, Any]) -> None:
    user = {
        "AIRFLOW_CONN_ALPACA_DEFAULT": '{"conn_type": "http", "login": "PK", "password": "s", '
        '"extra": {"paper": true}}',
        "AIRFLOW_CONN_AWS_DEFAULT": '{"conn_type": "aws", "extra": {"region_name": "us-east-1"}}',
    }
    env = env_of(services["airflow-worker"], user)
    assert env["AIRFLOW_CONN_ALPACA_DEFAULT"] == user["AIRFLOW_CONN_ALPACA_DEFAULT"]
    assert env["AIRFLOW_CONN_AWS_DEFAULT"] == user["AIRFLOW_CONN_AWS_DEFAULT"]


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_compose_accepts_the_file_when_installed() -> None:
    command = _compose_command()
    if command is None:
        return  # no Compose on this machine: the structural tests above still ran
    env = {**os.environ, "AIRFLOW_UID": "50000"}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
