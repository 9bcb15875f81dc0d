"""A cash account: the buys wait for proceeds that settle in time, or buy with what settled."""

from __future__ import annotations

from decimal import Decimal

from alchemiser.domain.orders import PhaseResult, PhaseStatus
from alchemiser.domain.plan import RebalancePlan, Side
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.services.artifacts import load
from alchemiser.services.execute import execute_buys, execute_sells
from alchemiser.services.settlement import check_ready_to_buy
from tests.builders import targets
from tests.execution.conftest import RUN, StartVenue

SETTINGS = ExecutionSettings(step_interval_seconds=5, poll_interval_seconds=1)
WAIT = 60.0
TOLERANCE = Decimal(10)


def test_buys_wait_for_proceeds_that_settle_within_the_wait(venue: StartVenue) -> None:
    v = venue(
        cash="100", positions={"XLE": "100"}, account_type="cash", settlement_delay_seconds=20
    )
    plan = v.plan(targets({"SPY": "1"}))
    sells = execute_sells(RUN, RUN.task("execute_sells"), plan, v.adapters, SETTINGS)
    broker, clock = v.adapters.broker, v.adapters.clock
    ready, status = check_ready_to_buy(broker, clock, sells, TOLERANCE, WAIT)
    assert (ready, status.sells_terminal, status.settled) == (False, True, False)
    v.clock.sleep(21)  # T+1 stands in as 20 s here: inside the 60 s wait
    ready, status = check_ready_to_buy(broker, clock, sells, TOLERANCE, WAIT)
    assert ready
    assert status.settled
    ref = execute_buys(
        RUN, RUN.task("execute_buys"), plan, v.adapters, SETTINGS, sells_status=PhaseStatus.SUCCESS
    )
    bought = PhaseResult.model_validate_json(v.adapters.store.get(ref.key))
    assert bought.status is PhaseStatus.SUCCESS
    assert bought.scale is not None
    assert bought.scale > Decimal("0.98")  # only the 1% slippage buffer (no reserve here)
    assert bought.budget is not None
    assert bought.budget > Decimal(1000)  # the settled proceeds, not the $100 that was there


def test_proceeds_that_do_not_settle_in_time_leave_the_rest_for_the_next_session(
    venue: StartVenue,
) -> None:
    v = venue(
        cash="1000", positions={"XLE": "100"}, account_type="cash", settlement_delay_seconds=86_400
    )
    plan_ref = v.plan(targets({"SPY": "1"}))
    sells = execute_sells(RUN, RUN.task("execute_sells"), plan_ref, v.adapters, SETTINGS)
    broker, clock = v.adapters.broker, v.adapters.clock
    assert not check_ready_to_buy(broker, clock, sells, TOLERANCE, WAIT)[0]
    v.clock.sleep(WAIT)
    ready, status = check_ready_to_buy(broker, clock, sells, TOLERANCE, WAIT)
    assert ready
    assert not status.settled  # the wait is over: buy with the settled cash only
    ref = execute_buys(
        RUN,
        RUN.task("execute_buys"),
        plan_ref,
        v.adapters,
        SETTINGS,
        sells_status=PhaseStatus.SUCCESS,
    )
    bought = PhaseResult.model_validate_json(v.adapters.store.get(ref.key))
    planned = load(v.adapters.store, plan_ref, RebalancePlan)
    assert bought.budget == Decimal(1000)
    assert bought.filled_value <= Decimal(1000)
    assert bought.scale is not None
    assert bought.scale < Decimal("0.5")
    assert bought.unbought is not None
    assert bought.unbought > planned.buys[0].trade_amount / 2
    assert "next session" in bought.message
    # The next session's plan, from the account as it is, picks up what was not bought.
    later = load(v.adapters.store, v.plan(targets({"SPY": "1"})), RebalancePlan)
    assert [(i.side, i.symbol) for i in later.items] == [(Side.BUY, "SPY")]
