"""Run daily_rebalance once with `dag.test()` after changing some tasks' retries or timeouts.

The failure-path tests need a task to time out in seconds, or retry after a second, without a
DAG file of their own: this loads the real DAG file, changes only the named attributes, and
runs it exactly as `airflow dags test` does (same process model, same task runner).

    python -m tests.e2e.dag_variant CONF_JSON [TASK_ID:ATTR=VALUE ...]

ATTR is `retries`, `retry_delay` or `execution_timeout` (seconds). CONF_JSON is one run's conf,
or a list of confs: one run each, in order, in this one process (what a backfill of several
sessions needs, without starting Airflow once per session), stopping at the first that fails.
Exit 0 when every run succeeded, 1 otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "daily_rebalance.py"
SECONDS = {"retry_delay", "execution_timeout"}


def _value(attr: str, raw: str) -> Any:
    if attr in SECONDS:
        return timedelta(seconds=float(raw))
    if attr == "retries":
        return int(raw)
    raise SystemExit(f"unsupported attribute {attr!r}")


def main(argv: list[str]) -> int:
    """Load the DAG, apply the changes, run it once per conf; return the exit code."""
    confs = json.loads(argv[0])
    spec = importlib.util.spec_from_file_location("daily_rebalance", DAG_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    for change in argv[1:]:
        task_id, assignment = change.split(":", 1)
        attr, raw = assignment.split("=", 1)
        setattr(dag.get_task(task_id), attr, _value(attr, raw))
    for conf in confs if isinstance(confs, list) else [confs]:
        run = dag.test(run_conf=conf)
        print(f"dag_variant: run {run.run_id} ended {run.state}")  # noqa: T201 - a test tool
        if str(run.state) not in {"success", "DagRunState.SUCCESS"}:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
