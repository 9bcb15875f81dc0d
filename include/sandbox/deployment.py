"""A real multi-process Airflow deployment on this machine, driven through the REST API v2.

`Deployment` starts what `docker-compose.yaml` runs, natively: api-server, scheduler,
dag-processor, triggerer and, for CeleryExecutor, Celery workers on Redis; the metadata DB is
SQLite in AIRFLOW_HOME (the embedded default) or a fresh PostgreSQL database dropped at stop.
Beside them run the paper exchange and either a moto S3 server (tests) or, given a state
folder (`make airflow`), the local store and a paper exchange that keep their state in it, so a
restart keeps the ledger and the account as the SQLite DB keeps the run history. Every
component runs in its own process group (setsid) with its log in `<home>/deployment-logs/`,
and stopping kills the whole groups.

`python -m sandbox airflow` (`make airflow`, see sandbox.serve) and `tests/deploy/` use it.
Process groups are in sandbox.groups, the PostgreSQL database and Redis keys in sandbox.backing.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self, TypeVar

import requests

from alchemiser.bootstrap import s3_client
from alchemiser.defaults import EXCHANGE_STATE
from sandbox.airflow_rest import (
    DAG_ID,
    HTTP_TIMEOUT_SECONDS,
    LOG_TAIL_CHARS,
    POLL_SECONDS,
    AirflowRestMixin,
    DagRun,
    DeploymentError,
    TaskInstance,
)
from sandbox.backing import (
    POSTGRES_URL,
    REDIS_URL,
    create_database,
    delete_redis_keys,
    drop_database,
)
from sandbox.environment import (
    airflow_env,
    alpaca_connection,
    aws_connection,
    create_sandbox_bucket,
    use_local_store,
)
from sandbox.groups import die_with_parent, kill_groups
from sandbox.processes import Server, exchange_orders, free_port, start_exchange, start_s3

Executor = Literal["LocalExecutor", "CeleryExecutor"]
Database = Literal["sqlite", "postgres"]

__all__ = [  # what the tests import from here; the REST parts live in airflow_rest
    "DAG_ID",
    "DagRun",
    "Deployment",
    "DeploymentConfig",
    "DeploymentError",
    "Executor",
    "TaskInstance",
]

DEMO_ACCOUNT = Path(__file__).with_name("demo_account.json")
STARTUP_TIMEOUT_SECONDS = 240.0
SECRET_SETTINGS = frozenset({"AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"})
HEALTHY_PARTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")

T = TypeVar("T")


@dataclass(frozen=True)
class DeploymentConfig:
    """What to start: executor, metadata DB, ports and the paper exchange's account."""

    home: Path
    executor: Executor = "LocalExecutor"
    database: Database = "sqlite"
    celery_workers: int = 2
    api_port: int | None = None
    """None: a free port."""
    exchange_args: tuple[str, ...] = ()
    bucket: str = "alchemiser"
    use_job_schedule: bool = False
    """False for tests: the scheduler creates no scheduled runs that race the manual ones."""
    state_dir: Path | None = None
    """None: a moto S3 server and an exchange in memory, both gone at stop. A folder: the local
    store and the paper exchange's account live there and outlast the deployment."""


@dataclass
class _Component:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)


class Deployment(AirflowRestMixin):
    """A running deployment and a small REST client for it; a context manager that stops it."""

    def __init__(self, config: DeploymentConfig) -> None:
        if config.executor == "CeleryExecutor" and config.database == "sqlite":
            raise DeploymentError("CeleryExecutor needs the PostgreSQL metadata DB")
        self.config = config
        self.token = secrets.token_hex(4)
        self.home = config.home
        self.log_dir = self.home / "deployment-logs"
        self.api_port = config.api_port or free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.database_name = f"alchemiser_{self.token}"
        self.queue = f"alchemiser-{self.token}"
        self.exchange: Server | None = None
        self.s3: Server | None = None
        self.env: dict[str, str] = {}
        self.username = "admin"
        self.password = ""
        self._components: list[_Component] = []
        self._http = requests.Session()
        self._database_created = False
        self._redis_used = False

    def start(self) -> Self:
        """Start everything and wait until the DAG is parsed and the API answers with a token."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.exchange = start_exchange(self.log_dir, *self.exchange_args())
        if self.config.state_dir is None:
            self.s3 = start_s3(self.log_dir)
        self.env = self.environment(self.exchange.url, self.s3.url if self.s3 else None)
        if self.s3 is not None:
            self._create_bucket(self.s3)
        self._write_env_file()
        if self.config.database == "postgres":
            create_database(self.database_name)
            self._database_created = True
        self._airflow_once(["db", "migrate"], "db-migrate")
        self._start_components()
        self._wait_for_health()
        self._login()
        self._wait_for_dag(DAG_ID)
        return self

    def stop(self) -> None:
        """Kill every component's process group, drop the DB and Redis keys, stop the servers."""
        try:
            kill_groups([c.process for c in self._components])
            for component in self._components:
                component.log.close()
            self._components.clear()
            if self._database_created:
                self._database_created = False
                drop_database(self.database_name)
            if self._redis_used:
                self._redis_used = False
                delete_redis_keys(self.token)
        finally:
            for server in (self.exchange, self.s3):
                if server is not None:
                    server.stop()
            self._http.close()

    def __enter__(self) -> Self:
        started = False
        try:
            self.start()
            started = True
        finally:
            if not started:  # a half-started deployment still owns processes and a DB
                self.stop()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def exchange_args(self) -> tuple[str, ...]:
        """Return the paper exchange's arguments: the config's, plus its state file if any."""
        if self.config.state_dir is None:
            return self.config.exchange_args
        return (*self.config.exchange_args, "--state", str(self.config.state_dir / EXCHANGE_STATE))

    def environment(self, exchange_url: str, s3_url: str | None) -> dict[str, str]:
        """Return the environment every component gets: the same connections and state."""
        env = airflow_env(self.home)
        bin_dir = str(Path(sys.executable).parent)  # components start plain `airflow` children
        env["PATH"] = os.pathsep.join(p for p in (bin_dir, env.get("PATH", "")) if p)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": self.config.executor,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                # All components must sign and check the same tokens.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(self.config.use_job_schedule),
                # The defaults 8793/8794 collide between deployments and between workers.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW_CONN_ALPACA_DEFAULT": alpaca_connection(exchange_url),
                "AIRFLOW_VAR_ALCHEMISER_BUCKET": self.config.bucket,
            }
        )
        if s3_url is not None:
            env["AIRFLOW_CONN_AWS_DEFAULT"] = aws_connection(s3_url)
        else:
            assert self.config.state_dir is not None
            use_local_store(env, self.config.state_dir)
        if self.config.database == "postgres":
            url = f"{POSTGRES_URL}/{self.database_name}"
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = url
        else:
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.home / 'airflow.db'}"
        if self.config.executor == "CeleryExecutor":
            env["AIRFLOW__CELERY__BROKER_URL"] = REDIS_URL
            # "db+" + a SQLAlchemy URL with the driver named: SQLAlchemy 2.1's default
            # PostgreSQL driver is psycopg 3, which Airflow does not bring.
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"db+{POSTGRES_URL}/{self.database_name}"
            env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = self.queue
        return env

    def _write_env_file(self) -> None:
        """Write `<home>/env.sh`: source it to point the `airflow` CLI at this deployment."""
        lines = [
            f"export {key}={shlex.quote(value)}"
            for key, value in sorted(self.env.items())
            if key.startswith("AIRFLOW") and key not in SECRET_SETTINGS
        ]
        lines.append(f"export PYTHONPATH={shlex.quote(self.env['PYTHONPATH'])}")
        lines.append(f"export PATH={shlex.quote(self.env['PATH'])}")
        (self.home / "env.sh").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _create_bucket(self, s3: Server) -> None:
        # moto accepts any credentials
        client = s3_client(s3.url, access_key="sandbox", secret_key="sandbox", region="us-east-1")  # noqa: S106
        create_sandbox_bucket(client, self.config.bucket)

    def _airflow_once(self, args: list[str], name: str) -> None:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            completed = subprocess.run(  # noqa: S603 - our venv's airflow, fixed arguments
                [_airflow(), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=STARTUP_TIMEOUT_SECONDS,
                check=False,
            )
        if completed.returncode != 0:
            raise DeploymentError(f"airflow {' '.join(args)} failed:\n{_tail(log_path)}")

    def _start_components(self) -> None:
        self._spawn(
            "api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)]
        )
        self._spawn("scheduler", ["scheduler"])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("triggerer", ["triggerer"])
        if self.config.executor == "CeleryExecutor":
            self._redis_used = True
            for n in range(1, self.config.celery_workers + 1):
                self._spawn(
                    f"worker-{n}",
                    [
                        "celery",
                        "worker",
                        "--celery-hostname",
                        f"{self.queue}-{n}@%h",
                        "--queues",
                        self.queue,
                        "--concurrency",
                        "2",
                    ],
                    # Each worker serves its own logs: one port each.
                    {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
                )

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(  # noqa: S603 - our venv's airflow, fixed arguments
            [_airflow(), *args],
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # setsid: its own process group, stopped as a whole
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads here; see the function
        )
        self._components.append(_Component(name, process, log_path, log))

    def _wait_for_health(self) -> None:
        def healthy() -> bool:
            try:
                response = self._http.get(
                    f"{self.api_url}/api/v2/monitor/health", timeout=HTTP_TIMEOUT_SECONDS
                )
            except requests.ConnectionError:
                return False
            body = response.json() if response.ok else {}
            return all((body.get(part) or {}).get("status") == "healthy" for part in HEALTHY_PARTS)

        self._wait("the api-server, scheduler, triggerer and dag-processor to be healthy", healthy)

    def _login(self) -> None:
        passwords_file = self.home / "simple_auth_manager_passwords.json.generated"
        passwords = json.loads(passwords_file.read_text(encoding="utf-8"))
        self.password = str(passwords[self.username])
        self.sign_in(self.username, self.password)

    def _wait_for_dag(self, dag_id: str) -> None:
        def parsed() -> bool:
            if self._http.get(self._api(f"dags/{dag_id}"), timeout=HTTP_TIMEOUT_SECONDS).ok:
                return True
            errors = self.import_errors()
            if errors:  # fail now: the DAG will not appear by waiting
                raise DeploymentError(f"the dag-processor could not import the DAGs:\n{errors}")
            return False

        self._wait(f"the dag-processor to parse {dag_id}", parsed)

    def _wait(
        self,
        what: str,
        done: Callable[[], bool],
        timeout: float = STARTUP_TIMEOUT_SECONDS,
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if done():
                return
            time.sleep(POLL_SECONDS)
        raise DeploymentError(
            f"timed out after {timeout:.0f}s waiting for {what}\n{self.log_tails()}"
        )

    def check_alive(self) -> None:
        """Raise if a component has exited, with the end of its log."""
        for component in self._components:
            if component.process.poll() is not None:
                raise DeploymentError(
                    f"{component.name} exited with {component.process.returncode}:\n"
                    f"{_tail(component.log_path)}"
                )

    def log_tails(self, names: tuple[str, ...] | None = None) -> str:
        """Return the end of each component's log (all, or those named)."""
        return "\n".join(
            f"--- {c.name} ({c.log_path}) ---\n{_tail(c.log_path)}"
            for c in self._components
            if names is None or c.name in names
        )

    def exchange_session(self) -> str:
        """Return the paper exchange's current session (YYYY-MM-DD)."""
        assert self.exchange is not None
        health = requests.get(f"{self.exchange.url}/_exchange/health", timeout=5).json()
        return str(health["session"])

    def exchange_orders(self) -> list[dict[str, Any]]:
        """Return every order the paper exchange received (the tests' oracle)."""
        assert self.exchange is not None
        return exchange_orders(self.exchange.url)


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _tail(path: Path) -> str:
    if not path.exists():
        return "(no log)"
    return path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
