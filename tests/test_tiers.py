"""The tier a test lands in follows from what its code reaches (tests/tiers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from paper_exchange import ExchangeConfig, PaperExchange
from sandbox.deployment import Deployment, DeploymentConfig
from tests.conftest import TIER, require_services
from tests.fakes import FakeStore
from tests.tiers import Reach

ROOT = Path(__file__).resolve().parents[1]

# These tests only inspect the sample functions below; they call none of them.
pytestmark = pytest.mark.unit


def _runs_a_command() -> None:
    subprocess.run(["true"], check=True)


def _starts_an_exchange() -> PaperExchange:
    return PaperExchange(ExchangeConfig())


def _helper_of_a_helper() -> None:
    _starts_an_exchange().stop()


def _deploys() -> None:
    Deployment(DeploymentConfig(home=Path("never-started")))


def _pure() -> Decimal:
    store = FakeStore()
    return Decimal(len(store.objects)) + sum((Decimal(1), Decimal(2)))


@pytest.mark.parametrize(
    ("function", "starter"),
    [
        (_runs_a_command, "subprocess"),
        (_starts_an_exchange, "paper_exchange.server.PaperExchange"),
        (_helper_of_a_helper, "paper_exchange.server.PaperExchange"),
        (_deploys, "sandbox.deployment."),
    ],
)
def test_code_that_starts_a_server_or_process_is_found_through_helpers(
    function: object, starter: str
) -> None:
    found = Reach().starter(function)
    assert found is not None
    assert found.startswith(starter)


def test_pure_code_and_fakes_reach_no_starter() -> None:
    assert Reach().starter(_pure) is None


def test_an_explicit_marker_wins_over_what_the_code_reaches(request: pytest.FixtureRequest) -> None:
    assert request.node.stash[TIER] == ("unit", "marked")


def test_a_missing_service_skips_with_its_name_locally_and_fails_in_ci() -> None:
    missing = ("Redis on 127.0.0.1:6379",)
    with pytest.raises(pytest.skip.Exception, match=r"needs Redis on 127\.0\.0\.1:6379"):
        require_services(missing, ci=False)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_services(missing, ci=True)
    require_services((), ci=True)  # all there: runs


@pytest.mark.integration
def test_one_unit_file_run_alone_passes(tmp_path: Path) -> None:
    """`pytest tests/cli/test_ledger_cli.py` alone: its tests are the first to import urllib3,
    whose import probes IPv6 by binding ('::1', 0); the purity guard must not take that for a
    unit test opening a socket (in the whole suite another test has imported urllib3 before)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    args = ("-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--basetemp", str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "tests/cli/test_ledger_cli.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 passed" in result.stdout
