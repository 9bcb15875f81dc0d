"""How a walk ends and when a phase's breaker trips, from the broker's numbers (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alchemiser.domain.orders import OrderResult, OrderStatus, WalkOutcome
from alchemiser.domain.plan import Side
from alchemiser.execution.breaker import breaker_reason
from alchemiser.execution.hours import PhaseWindow
from alchemiser.execution.pacing import backed_off, next_pause
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk
from tests.builders import D
from tests.fakes import T0

SETTINGS = ExecutionSettings()


def walk(
    target: str,
    filled: str,
    price: str | None = "100",
    side: Side = Side.SELL,
    symbol: str = "SPY",
    arrival: str | None = None,
) -> Walk:
    """Return a walk whose one order ended canceled after filling `filled` at `price`."""
    w = Walk(symbol, side, D(target), ("a-0", "a-1"), plan_price=D(price) if price else None)
    w.arrival_mid = D(arrival) if arrival else None
    w.record(
        OrderResult(
            client_order_id="a-0",
            broker_order_id="b-0",
            symbol=symbol,
            side=side,
            status=OrderStatus.CANCELED,
            qty=D(target),
            filled_qty=D(filled),
            filled_avg_price=D(price or "100") if D(filled) > 0 else None,
            limit_price=D(price or "100"),
            submitted_at=T0,
        )
    )
    return w


@pytest.mark.parametrize(
    ("target", "filled", "price", "outcome", "dust"),
    [
        # The case: a broker that fills to 6 decimals leaves $0.00007 short.
        ("24.365812132", "24.365812", "530", WalkOutcome.FILLED, "0.000000132"),
        ("10", "9.995", "100", WalkOutcome.FILLED, "0.005"),  # $0.50 short: dust
        ("10", "9.99", "100", WalkOutcome.PARTIAL, "0"),  # exactly $1 short: a real shortfall
        ("10", "9", "100", WalkOutcome.PARTIAL, "0"),
        ("10", "10", "100", WalkOutcome.FILLED, "0"),
        ("0.5", "0", "1.5", WalkOutcome.UNFILLED, "0"),  # nothing filled is never dust
        ("10", "9.9999999995", None, WalkOutcome.FILLED, "0.0000000005"),  # under the qty step
    ],
)
def test_a_shortfall_under_the_minimum_order_is_dust_and_the_walk_is_complete(
    target: str, filled: str, price: str | None, outcome: WalkOutcome, dust: str
) -> None:
    w = walk(target, filled, price)
    w.finish("ended canceled with shares left")
    result = w.result()
    assert result.outcome is outcome
    assert result.dust_qty == D(dust)
    if D(dust) > 0:
        assert "dust" in result.message


def test_a_walk_with_only_dust_left_sends_no_final_order() -> None:
    w = walk("24.365812132", "24.365812", "530")
    w.going_final = True
    assert w.after_terminal(w.orders[0]) is False  # done: nothing more to send
    assert w.result().outcome is WalkOutcome.FILLED


def test_a_real_shortfall_goes_on_to_the_final_order() -> None:
    w = walk("10", "4", "100")
    w.going_final = True
    assert w.after_terminal(w.orders[0]) is True
    assert not w.done


@pytest.mark.parametrize(
    ("walks", "rejected", "trips"),
    [
        ([], 2, None),
        ([], 3, "3 orders rejected (max_rejected_orders=3)"),
        ([("SPY", "99.50")], 0, None),  # a sell 50 bps under the arrival mid of 100
        ([("SPY", "98.90")], 0, "SPY filled 110.00 bps worse than its arrival mid 100"),
        # each within 100 bps, together (value-weighted) over the 50 bps phase budget
        ([("SPY", "99.30"), ("QQQ", "99.50")], 0, "phase slippage 60.00 bps over 200"),
        ([("SPY", "99.30"), ("QQQ", "100.20")], 0, None),  # a better fill offsets it
    ],
)
def test_the_breaker_trips_on_slippage_per_order_or_per_phase_or_on_rejections(
    walks: list[tuple[str, str]], rejected: int, trips: str | None
) -> None:
    filled = [walk("1", "1", price, symbol=sym, arrival="100") for sym, price in walks]
    reason = breaker_reason(filled, rejected, SETTINGS)
    if trips is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(trips)


def test_a_walk_without_an_arrival_mid_is_not_judged_for_slippage() -> None:
    # An adopted walk's arrival quote is gone with the earlier try: no number, no trip.
    assert breaker_reason([walk("1", "1", "50")], 0, SETTINGS) is None


def test_polls_back_off_while_nothing_changes_but_never_sleep_past_a_due_step() -> None:
    window = PhaseWindow(
        broker_now=T0,
        walk_deadline=T0 + timedelta(seconds=300),
        hard_deadline=T0 + timedelta(seconds=360),
        computed_at=T0,
    )
    pauses = [SETTINGS.poll_interval_seconds]
    for _ in range(4):
        pauses.append(backed_off(pauses[-1], SETTINGS))
    assert pauses == [1, 2, 4, 4, 4]  # doubling, capped at POLL_BACKOFF intervals
    resting = walk("10", "0")
    resting.outcome = None
    resting.next_step_at = T0 + timedelta(seconds=2.5)
    assert next_pause([resting], 4, T0, window, SETTINGS) == 2.5  # wake for the step
    resting.next_step_at = T0 + timedelta(seconds=0.2)
    assert next_pause([resting], 4, T0, window, SETTINGS) == 1  # never under one interval
    resting.next_step_at = T0 - timedelta(seconds=1)  # already due
    assert next_pause([resting], 4, T0, window, SETTINGS) == 4
