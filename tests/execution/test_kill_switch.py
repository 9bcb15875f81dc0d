"""The kill switch: flipped before a phase nothing is placed; flipped during one, this run's
open orders are canceled, nothing more is sent, and the task fails with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alchemiser.domain.errors import KillSwitchError
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.services.execute import execute_sells
from tests.builders import targets
from tests.execution.conftest import RUN, StartVenue

SETTINGS = ExecutionSettings(step_interval_seconds=10, poll_interval_seconds=1, walk_seconds=120)


class Switch:
    """Off for the first `ticks` looks, then on."""

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks

    def __call__(self) -> str | None:
        self.ticks -= 1
        return "kill switch on (test)" if self.ticks < 0 else None


def test_a_switch_on_before_the_phase_places_nothing(venue: StartVenue) -> None:
    v = venue(cash="0", positions={"SPY": "10"})
    plan = v.plan(targets({"SPY": "0.5", "BIL": "0.5"}))
    with pytest.raises(KillSwitchError, match=r"kill switch on \(test\): no further orders placed"):
        execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS, halt=Switch(0))
    assert v.orders() == []


def test_a_switch_flipped_mid_walk_cancels_this_runs_order_and_stops(venue: StartVenue) -> None:
    # Resting limits never fill (threshold above 1), so the walk is still working when flipped.
    v = venue(cash="0", positions={"SPY": "10"}, limit_fill_fraction=Decimal(2))
    plan = v.plan(targets({"SPY": "0.5", "BIL": "0.5"}))
    with pytest.raises(KillSwitchError, match="open orders canceled"):
        execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS, halt=Switch(3))
    orders = v.orders()
    assert orders
    assert all(o["status"] in {"canceled", "replaced", "filled"} for o in orders)
    assert not any(o["type"] == "market" for o in orders)
