"""The tier a test lands in follows from what its code reaches (tests/tiers.py)."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from paper_exchange import ExchangeConfig, PaperExchange
from sandbox.deployment import Deployment, DeploymentConfig
from tests.conftest import TIER, require_services
from tests.fakes import FakeStore
from tests.tiers import Reach

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
