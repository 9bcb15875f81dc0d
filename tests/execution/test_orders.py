"""Idempotent submission, batch polling, buy sizing and the settlement check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from alchemiser.domain.errors import DuplicateClientOrderIdError, OrderRejectedError
from alchemiser.domain.market import AccountState
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.plan import PlanItem, Side
from alchemiser.execution.orders import submit_once, wait_for_terminal
from alchemiser.execution.settlement import settlement_status
from alchemiser.execution.sizing import budget_scale, buy_qty, buy_scale
from tests.builders import D
from tests.fakes import FakeBroker, FakeClock


def _intent(cid: str = "alc-1", symbol: str = "SPY") -> OrderIntent:
    return OrderIntent(client_order_id=cid, run_id="r", symbol=symbol, side=Side.BUY, qty=D(1))


def test_submit_once_adopts_an_order_already_placed_under_the_same_id() -> None:
    broker = FakeBroker(prices={"SPY": D(100)})
    first = submit_once(broker, _intent())
    again = submit_once(broker, _intent())
    assert again.broker_order_id == first.broker_order_id
    assert broker.submissions == ["alc-1"]


class LostResponseBroker(FakeBroker):
    """The first lookup misses (the order was accepted but its response lost)."""

    def get_order_by_client_id(self, client_order_id: str) -> OrderResult | None:
        if not self.submissions:
            return None
        return super().get_order_by_client_id(client_order_id)

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        super().submit_order(intent)
        raise DuplicateClientOrderIdError(
            "client_order_id must be unique", status=422, code=40010001
        )


def test_duplicate_id_rejection_is_resolved_by_lookup_not_by_a_new_id() -> None:
    broker = LostResponseBroker(prices={"SPY": D(100)})
    result = submit_once(broker, _intent())
    assert result.client_order_id == "alc-1"
    assert list(broker.orders) == ["alc-1"]


def test_other_rejections_propagate_with_their_code() -> None:
    rejection = OrderRejectedError("insufficient buying power", status=403, code=40310000)
    broker = FakeBroker(prices={"SPY": D(100)}, reject={"SPY": rejection})
    with pytest.raises(OrderRejectedError) as caught:
        submit_once(broker, _intent())
    assert caught.value.code == 40310000


def test_waiting_polls_all_orders_in_one_call_per_tick() -> None:
    broker = FakeBroker(prices={s: D(10) for s in "ABCDE"}, fill_after_polls=3)
    for s in "ABCDE":
        submit_once(broker, _intent(f"c-{s}", s))
    clock = FakeClock()
    final = wait_for_terminal(broker, [f"c-{s}" for s in "ABCDE"], clock, 60, 0.5)
    assert all(o.status is OrderStatus.FILLED for o in final)
    assert broker.list_calls == 3  # five orders, three ticks, three requests
    assert clock.slept == [0.5, 0.5]


def test_waiting_gives_up_at_the_deadline_and_reports_open_orders() -> None:
    broker = FakeBroker(prices={"SPY": D(10)}, fill_after_polls=1000)
    submit_once(broker, _intent())
    clock = FakeClock()
    final = wait_for_terminal(broker, ["alc-1"], clock, 5, 1)
    assert final[0].status is OrderStatus.NEW
    assert sum(clock.slept) == 5


def _buy(amount: str, qty: str, fractionable: bool = True) -> PlanItem:
    return PlanItem(
        symbol="SPY",
        side=Side.BUY,
        price=D(100),
        current_qty=D(0),
        current_value=D(0),
        current_weight=D(0),
        target_weight=D("0.5"),
        target_value=D(amount),
        trade_amount=D(amount),
        quantity=D(qty),
        fractionable=fractionable,
    )


def test_buys_shrink_to_the_spendable_budget() -> None:
    assert buy_scale(D(1000), D(500)) == D("0.5")
    assert buy_scale(D(1000), D(5000)) == D(1)
    assert buy_scale(D(1000), D(-5)) == D(0)
    assert buy_qty(_buy("1000", "10"), D("0.5"), D(100)) == D(5)


def test_the_budget_scale_keeps_the_reserve_and_pays_for_slippage() -> None:
    # Enough for the plan and its reserve, and the worst case fits the whole budget: no scaling.
    assert budget_scale(D(9900), D(10_000), D(100), D(100)) == D(1)
    # Half the money: the expected cost stays out of the reserve.
    assert budget_scale(D(9900), D(5000), D(100), D(100)) == D("0.494949")
    # No reserve: the slippage buffer binds.
    assert budget_scale(D(1000), D(1000), D(0), D(100)) == D("0.990099")


def test_whole_share_buys_round_down_after_scaling_and_vanish_below_one_share() -> None:
    assert buy_qty(_buy("1000", "10", fractionable=False), D("0.55"), D(100)) == D(5)
    assert buy_qty(_buy("100", "1", fractionable=False), D("0.5"), D(100)) == D(0)


def test_fractional_buys_stop_at_nine_decimals_and_below_a_dollar_vanish() -> None:
    assert buy_qty(_buy("1000", "10"), D(1), D(3)) == D("333.333333333")
    assert buy_qty(_buy("1000", "10"), D("0.0005"), D(100)) == D(0)


def _sold(status: OrderStatus, value: str) -> OrderResult:
    return OrderResult(
        client_order_id=f"c-{status}",
        broker_order_id="b",
        symbol="SPY",
        side=Side.SELL,
        status=status,
        filled_qty=D(1) if Decimal(value) else D(0),
        filled_avg_price=D(value) if Decimal(value) else None,
    )


def _account(cash: str) -> AccountState:
    return AccountState(
        account_id="a",
        status="ACTIVE",
        cash=D(cash),
        buying_power=D(cash),
        non_marginable_buying_power=D(cash),
        equity=D(cash),
    )


def test_settled_when_sells_are_terminal_and_proceeds_arrived() -> None:
    status = settlement_status(
        _account("1999.5"), (_sold(OrderStatus.FILLED, "1000"),), D(1000), D(10)
    )
    assert status.settled
    assert status.proceeds == D(1000)


def test_not_settled_while_a_sell_is_open_or_proceeds_are_missing() -> None:
    open_sell = settlement_status(_account("2000"), (_sold(OrderStatus.NEW, "0"),), D(1000), D(10))
    assert not open_sell.settled
    assert "1 sell orders open" in open_sell.describe()
    unsettled = settlement_status(
        _account("1000"), (_sold(OrderStatus.FILLED, "1000"),), D(1000), D(10)
    )
    assert not unsettled.settled
    assert "below expected 1999" in unsettled.describe()


def test_order_logs_carry_the_run_and_the_client_order_id() -> None:
    broker = FakeBroker(prices={"SPY": D(100)})
    submit_once(broker, _intent())
    with capture_logs() as logs:
        submit_once(broker, _intent())
    assert logs == [
        {
            "event": "order adopted",
            "log_level": "info",
            "run_id": "r",
            "client_order_id": "alc-1",
        }
    ]
