"""`make airflow` (`python -m sandbox airflow`) serves the UI and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.processes import free_port

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"Airflow UI at (http://127\.0\.0\.1:\d+)  login: (\S+) / (\S+)")


def _read_until_ready(process: subprocess.Popen[str], timeout: float) -> tuple[str, list[str]]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            lines.append(process.stdout.readline())
            if "Ctrl-C" in lines[-1]:
                return "".join(lines), lines
    raise AssertionError(f"make airflow did not get ready:\n{''.join(lines)}")


def test_make_airflow_serves_the_ui_with_the_dag_and_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["ALCHEMISER_DEPLOYMENT_HOME"] = str(tmp_path / "deployment")
    env["ALCHEMISER_AIRFLOW_PORT"] = str(free_port())
    env["PYTHONPATH"] = str(ROOT / "include")
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "airflow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = _read_until_ready(process, timeout=240)
        match = READY.search(output)
        assert match is not None, output
        url, username, password = match.groups()

        token = requests.post(
            f"{url}/auth/token", json={"username": username, "password": password}, timeout=10
        ).json()["access_token"]
        dag = requests.get(
            f"{url}/api/v2/dags/daily_rebalance",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert dag.status_code == 200, dag.text
        health = requests.get(f"{url}/api/v2/monitor/health", timeout=10).json()
        assert health["triggerer"]["status"] == "healthy"
        assert (tmp_path / "deployment" / "env.sh").exists()
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)

    assert process.returncode == 0, rest
    assert "stopped" in rest
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/v2/monitor/health", timeout=5)
