"""`make airflow`: a deployment on this machine that runs until Ctrl-C (see sandbox.deployment)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

from alchemiser.defaults import state_dir
from sandbox.deployment import DEMO_ACCOUNT, Deployment, DeploymentConfig
from sandbox.environment import PROJECT
from sandbox.processes import SandboxError, free_port


def port_is_free(port: int) -> bool:
    """Return whether a loopback port can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _say(message: str) -> None:
    print(f"[make airflow] {message}", flush=True)  # noqa: T201 - this is a CLI


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def make_airflow_config(home: Path, state: Path, port: int | None) -> DeploymentConfig:
    """Return what `make airflow` starts: SQLite, LocalExecutor, the demo account, a state folder
    (the local store and the exchange's account), and the scheduler creating scheduled runs."""
    return DeploymentConfig(
        home=home,
        api_port=port,
        exchange_args=("--account", str(DEMO_ACCOUNT)),
        use_job_schedule=True,
        state_dir=state,
    )


def serve() -> int:
    """Entry point of `python -m sandbox airflow`: run until Ctrl-C, then stop."""
    home = Path(os.environ.get("ALCHEMISER_DEPLOYMENT_HOME", PROJECT / ".airflow" / "deployment"))
    port = int(os.environ.get("ALCHEMISER_AIRFLOW_PORT", "8080"))
    if not port_is_free(port):
        _say(f"port {port} is taken; using a free one (set ALCHEMISER_AIRFLOW_PORT to choose)")
        port = free_port()
    state = state_dir()
    config = make_airflow_config(home, state, port)
    # A background job starts with SIGINT ignored; Ctrl-C and SIGTERM both stop cleanly.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    _say(f"starting Airflow in {home} (SQLite, LocalExecutor); logs in {home / 'deployment-logs'}")
    deployment = Deployment(config)
    try:
        with deployment:
            assert deployment.exchange is not None
            _say(f"paper exchange at {deployment.exchange.url}")
            _say(f"state (ledger, reports, the exchange's account) in {state}")
            _say(f"Airflow UI at {deployment.api_url}  login: admin / {deployment.password}")
            _say(f"session {deployment.exchange_session()}; Ctrl-C stops everything")
            while True:
                time.sleep(2)
                deployment.check_alive()
    except KeyboardInterrupt:
        _say("stopped")
        return 0
    except SandboxError as exc:
        _say(str(exc))
        return 1
