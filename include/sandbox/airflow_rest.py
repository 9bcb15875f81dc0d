"""The REST API v2 client the deployment tests drive Airflow through, like the UI does.

`AirflowRestMixin` is mixed into `Deployment`, which provides the API's address, an HTTP
session and component log tails for error messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from sandbox.processes import SandboxError

DAG_ID = "daily_rebalance"
RUN_TIMEOUT_SECONDS = 300.0
HTTP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.5
LOG_TAIL_CHARS = 3000
TERMINAL_RUN_STATES = frozenset({"success", "failed"})

T = TypeVar("T")


class DeploymentError(SandboxError):
    """The deployment would not start, answer or finish in time."""


@dataclass(frozen=True)
class TaskInstance:
    """One task instance of a run, as the REST API reports it."""

    task_id: str
    state: str | None
    try_number: int
    map_index: int
    deferred: bool
    """Whether any try of it deferred to the triggerer (from the audit log)."""


@dataclass(frozen=True)
class DagRun:
    """One DAG run, as the REST API reports it."""

    run_id: str
    run_type: str
    state: str
    logical_date: str | None
    conf: dict[str, Any]


class AirflowRestMixin:
    """Trigger, watch, clear and backfill through /api/v2 (what the UI uses)."""

    api_url: str
    _http: requests.Session

    def log_tails(self, names: tuple[str, ...] | None = None) -> str:
        """Return component log tails for error messages (the deployment provides them)."""
        raise NotImplementedError

    def _api(self, path: str) -> str:
        return f"{self.api_url}/api/v2/{path}"

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(
            method, self._api(path), timeout=HTTP_TIMEOUT_SECONDS, **kwargs
        )
        raise_for_status(response)
        return response.json() if response.content else None

    def sign_in(self, username: str, password: str) -> None:
        """Get a token for the user, as the login page does; later requests carry it."""
        response = self._http.post(
            f"{self.api_url}/auth/token",
            json={"username": username, "password": password},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        raise_for_status(response)
        self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def import_errors(self) -> str:
        """Return the DAG import errors the dag-processor reported, one per line."""
        body = self._request("GET", "importErrors")
        return "\n".join(f"{e['filename']}: {e['stack_trace']}" for e in body["import_errors"])

    def unpause(self, dag_id: str = DAG_ID) -> None:
        """Unpause a DAG, like the toggle in the UI."""
        self._request("PATCH", f"dags/{dag_id}", json={"is_paused": False})

    def trigger(self, conf: dict[str, Any], dag_id: str = DAG_ID) -> str:
        """Trigger a manual run with `conf` (no logical date, like the UI) and return its id."""
        body = self._request(
            "POST", f"dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        return str(body["dag_run_id"])

    def run(self, run_id: str, dag_id: str = DAG_ID) -> DagRun:
        """Return one run."""
        return _dag_run(self._request("GET", f"dags/{dag_id}/dagRuns/{run_id}"))

    def runs(self, dag_id: str = DAG_ID, run_type: str | None = None) -> list[DagRun]:
        """Return the DAG's runs, oldest logical date first (optionally of one type)."""
        params: dict[str, Any] = {"limit": 100, "order_by": "logical_date"}
        if run_type is not None:
            params["run_type"] = run_type
        body = self._request("GET", f"dags/{dag_id}/dagRuns", params=params)
        return [_dag_run(r) for r in body["dag_runs"]]

    def wait_for_run(
        self, run_id: str, dag_id: str = DAG_ID, timeout: float = RUN_TIMEOUT_SECONDS
    ) -> DagRun:
        """Wait for a run to succeed or fail and return it; raise if it takes longer."""
        return self._wait_for(
            f"run {run_id} to finish",
            lambda: self.run(run_id, dag_id),
            lambda run: run.state in TERMINAL_RUN_STATES,
            timeout,
            lambda: self.describe_run(run_id, dag_id),
        )

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, TaskInstance]:
        """Return the run's task instances by task id."""
        body = self._request("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        deferrals = self._request(
            "GET",
            "eventLogs",
            params={"dag_id": dag_id, "run_id": run_id, "event": "deferred", "limit": 100},
        )
        deferred = {e["task_id"] for e in deferrals["event_logs"]}
        return {
            ti["task_id"]: TaskInstance(
                task_id=ti["task_id"],
                state=ti["state"],
                try_number=int(ti["try_number"]),
                map_index=int(ti["map_index"]),
                deferred=ti["task_id"] in deferred,
            )
            for ti in body["task_instances"]
        }

    def task_events(self, run_id: str, task_id: str, dag_id: str = DAG_ID) -> list[str]:
        """Return the state changes of a task in a run from the audit log, oldest first.

        A deferral shows as `deferred` between two `running` events of the same try: the
        worker deferred, the triggerer fired the trigger and a worker resumed the task.
        """
        body = self._request(
            "GET",
            "eventLogs",
            params={
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task_id,
                "order_by": "when",
                "limit": 100,
            },
        )
        return [str(e["event"]) for e in body["event_logs"]]

    def task_log(self, run_id: str, task_id: str, try_number: int, dag_id: str = DAG_ID) -> str:
        """Return a task try's log as text (the worker's and the triggerer's lines)."""
        body = self._request(
            "GET",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": True},
            headers={"Accept": "application/json"},
        )
        content = body["content"]
        if isinstance(content, str):
            return content
        return "\n".join(_log_line(line) for line in content)

    def clear_task(self, run_id: str, task_id: str, dag_id: str = DAG_ID) -> list[str]:
        """Clear one task of a run, as the UI's Clear does; return the cleared task ids."""
        body = self._request(
            "POST",
            f"dags/{dag_id}/clearTaskInstances",
            json={
                "dag_run_id": run_id,
                "task_ids": [task_id],
                "dry_run": False,
                "only_failed": False,
            },
        )
        return [str(ti["task_id"]) for ti in body["task_instances"]]

    def wait_for_task(
        self,
        run_id: str,
        task_id: str,
        done: Callable[[TaskInstance], bool],
        dag_id: str = DAG_ID,
        timeout: float = RUN_TIMEOUT_SECONDS,
    ) -> TaskInstance:
        """Wait until `done` holds for one task instance and return it."""
        return self._wait_for(
            f"{task_id} of {run_id}",
            lambda: self.task_instances(run_id, dag_id)[task_id],
            done,
            timeout,
            lambda: self.describe_run(run_id, dag_id),
        )

    def create_backfill(
        self, from_date: str, to_date: str, dag_id: str = DAG_ID, **options: Any
    ) -> int:
        """Create a backfill over [from_date, to_date] (ISO datetimes) and return its id."""
        body = self._request(
            "POST",
            "backfills",
            json={"dag_id": dag_id, "from_date": from_date, "to_date": to_date, **options},
        )
        return int(body["id"])

    def wait_for_backfill(self, backfill_id: int, timeout: float = RUN_TIMEOUT_SECONDS) -> None:
        """Wait until a backfill has completed (every one of its runs finished)."""
        self._wait_for(
            f"backfill {backfill_id} to complete",
            lambda: self._request("GET", f"backfills/{backfill_id}"),
            lambda body: body["completed_at"] is not None,
            timeout,
            lambda: "\n".join(f"{r.run_id}: {r.state}" for r in self.runs(run_type="backfill")),
        )

    def describe_run(self, run_id: str, dag_id: str = DAG_ID) -> str:
        """Return a run's task states and the logs of its failed tasks, for error messages."""
        lines = []
        for ti in self.task_instances(run_id, dag_id).values():
            lines.append(f"{ti.task_id}: {ti.state} (try {ti.try_number})")
            if ti.state in {"failed", "up_for_retry"} and ti.try_number > 0:
                log = self.task_log(run_id, ti.task_id, ti.try_number, dag_id)
                lines.append(log[-LOG_TAIL_CHARS:])
        return "\n".join(lines)

    def _wait_for(
        self,
        what: str,
        read: Callable[[], T],
        done: Callable[[T], bool],
        timeout: float,
        describe: Callable[[], str],
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = read()
            if done(value):
                return value
            if time.monotonic() > deadline:
                raise DeploymentError(
                    f"timed out after {timeout:.0f}s waiting for {what}; last seen {value!r}\n"
                    f"{describe()}\n{self.log_tails(('scheduler', 'triggerer', 'worker-1'))}"
                )
            time.sleep(POLL_SECONDS)


def _dag_run(body: dict[str, Any]) -> DagRun:
    return DagRun(
        run_id=str(body["dag_run_id"]),
        run_type=str(body["run_type"]),
        state=str(body["state"]),
        logical_date=body.get("logical_date"),
        conf=dict(body.get("conf") or {}),
    )


def _log_line(line: dict[str, Any]) -> str:
    text = f"{line.get('level', '')} {line.get('event', '')}".strip()
    errors = line.get("error_detail") or []
    return "\n".join([text, *(f"  {e['exc_type']}: {e['exc_value']}" for e in errors)])


def raise_for_status(response: requests.Response) -> None:
    if not response.ok:
        raise DeploymentError(
            f"{response.request.method} {response.url} -> {response.status_code}: "
            f"{response.text[:LOG_TAIL_CHARS]}"
        )
