"""Test-wide setup: a throwaway Airflow home, a tier on every test, services checked up front."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Callable
from functools import cache
from multiprocessing.process import BaseProcess
from typing import Any

import pytest
import urllib3.util.connection  # noqa: F401 - see below
from _pytest.nodeid import NodeId

from tests.tiers import TIERS, Reach, classify, shared_fixture_group

# Set before anything imports airflow (pytest loads this file first). An xdist worker inherits
# the controller's environment: it gets a home of its own, so no two share one SQLite file.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker or "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"alchemiser-test-airflow-{_worker or ''}")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES", "airflow.* alchemiser.*")

# urllib3 probes IPv6 on import by binding ('::1', 0). Imported here, before any test, so that the
# probe never runs under the unit tier's socket guard: a unit file run alone, whose test is the
# first to import requests or boto3, would otherwise be failed as "binds a socket".
TIER = pytest.StashKey[tuple[str, str]]()
COUNTS = pytest.StashKey[dict[str, int]]()

# What the deployment tier runs on (sandbox.deployment's defaults).
SERVICES = {"PostgreSQL": ("127.0.0.1", 5432), "Redis": ("127.0.0.1", 6379)}

# Tests that share one process-wide thing run on one xdist worker, in order: a multi-process
# Airflow deployment wants most of the machine. The suite is CPU-bound, and two deployments at
# once slow each other: two even lanes (chaos and `make airflow` beside the PostgreSQL
# deployments) took 11 min 40 s and 1,109 s of CPU, where one lane had taken 11 min 26 s and
# 995 s, its worker running alone for the last 200 s. So the PostgreSQL and chaos deployments
# share one lane, and the lighter `make airflow` module (SQLite) takes another worker for its
# first two minutes. Tests sharing a module-scoped fixture (the fault matrix, which also writes
# docs/reliability.md; the DagBag) stay together too, so it is built once. e2e tests are not
# grouped: each worker migrates its own AIRFLOW_HOME and starts its own S3 server once (session
# fixtures, seconds), and the e2e tier is too long for one worker.
DEPLOYMENT_LANE = "airflow-deployment"
LANES = {"tests/ui/": "make-airflow"}
"""Deployment tests whose node id starts with a key run in that lane instead."""
# `--dist loadgroup` hands out the groups first (largest first), then single tests in collection
# order: the Airflow-starting tiers go to the front so that no long test starts last.
FIRST = ("deployment", "e2e")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reach = Reach()
    counts = dict.fromkeys(TIERS, 0)
    for item in items:
        tier, why = classify(item, reach)
        counts[tier] += 1
        item.stash[TIER] = (tier, why)
        item.add_marker(getattr(pytest.mark, tier))
        if item.get_closest_marker("xdist_group") is None:
            group = _lane(item.nodeid, tier) or shared_fixture_group(item)
            if group:
                item.add_marker(pytest.mark.xdist_group(group))
        if config.getoption("loadgroup", default=False):  # set on xdist workers only
            _name_group(item)
    if config.getoption("loadgroup", default=False):
        items.sort(key=lambda item: _start_rank(item.stash[TIER][0]))  # stable: modules stay whole
    config.stash[COUNTS] = counts


def _lane(nodeid: str, tier: str) -> str | None:
    if tier != "deployment":
        return None
    return next((g for prefix, g in LANES.items() if nodeid.startswith(prefix)), DEPLOYMENT_LANE)


def _start_rank(tier: str) -> int:
    return FIRST.index(tier) if tier in FIRST else len(FIRST)


def _name_group(item: pytest.Item) -> None:
    """Suffix the node id with its xdist group, as `--dist loadgroup` schedules by it.

    pytest-xdist 3.8 writes the suffix to `item._nodeid`, which pytest 9 no longer reads (the id
    lives in `item._id`), so without this every group would be spread over the workers.
    """
    names = sorted(
        {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
    )
    suffix = "@" + "_".join(names)
    if names and not item.nodeid.endswith(suffix):
        item._id = NodeId.parse(item.nodeid + suffix)


def pytest_report_collectionfinish(config: pytest.Config) -> str:
    counts = config.stash.get(COUNTS, {})
    return "tiers: " + ", ".join(f"{n} {tier}" for tier, n in counts.items()) + " (`-m TIER`)"


@cache
def _missing_services() -> tuple[str, ...]:
    missing = []
    for name, address in SERVICES.items():
        try:
            socket.create_connection(address, timeout=2).close()
        except OSError:
            missing.append(f"{name} on {address[0]}:{address[1]}")
    return tuple(missing)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(TIER, ("", ""))[0] == "deployment":
        require_services(_missing_services(), ci=os.environ.get("CI", "").lower() == "true")


def require_services(missing: tuple[str, ...], *, ci: bool) -> None:
    """Skip the test (fail it in CI) naming each service that does not answer."""
    if not missing:
        return
    reason = f"the deployment tier needs {' and '.join(missing)}, which do not answer"
    if ci:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _unit_tests_stay_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a `unit` test that opens a network socket or starts a process: it is misfiled."""
    tier, why = request.node.stash.get(TIER, ("", ""))
    if tier != "unit":
        return

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            pytest.fail(
                f"{request.node.nodeid} is a unit test ({why}) but {what}: mark it "
                "@pytest.mark.integration, or add the module that starts it to STARTERS in "
                "tests/tiers.py.",
                pytrace=False,
            )

        return refused

    def network_only(method: Callable[..., Any], what: str) -> Callable[..., Any]:
        def guarded(sock: socket.socket, *args: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                return refuse(f"{what} {args[0] if args else ''}")()
            return method(sock, *args)

        return guarded

    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(
            socket.socket, name, network_only(getattr(socket.socket, name), f"{name}s a socket")
        )
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("starts a process"))
    monkeypatch.setattr(BaseProcess, "start", refuse("starts a process"))
