"""DTO validation: what is accepted, what is refused, and that refusals say why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from alchemiser.domain.allocation import StrategyContribution, SymbolWeight, TargetAllocation
from alchemiser.domain.market import Quote
from alchemiser.domain.orders import (
    OrderIntent,
    OrderResult,
    OrderStatus,
)
from alchemiser.domain.plan import PlanItem, Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import bps_text
from tests.builders import SESSION, D, snapshot, targets
from tests.fakes import T0


def test_target_allocation_round_trips_through_json_with_exact_decimals() -> None:
    original = targets({"SPY": "0.333333", "QQQ": "0.333333", "TLT": "0.333334"})
    restored = TargetAllocation.model_validate_json(original.model_dump_json())
    assert restored == original
    assert restored.weight_of("TLT") == Decimal("0.333334")
    assert '"0.333334"' in original.model_dump_json()  # money and weights travel as strings


def test_weights_not_summing_to_one_are_refused_with_the_sum() -> None:
    with pytest.raises(ValidationError, match=r"sum to 0\.9, not 1"):
        targets({"SPY": "0.5", "QQQ": "0.4"})


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-0.1", "1.5"])
def test_weight_outside_zero_to_one_or_not_finite_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="weight"):
        SymbolWeight(symbol="SPY", weight=Decimal(bad))


def test_duplicate_symbol_is_refused_naming_it() -> None:
    ws = (SymbolWeight(symbol="SPY", weight=D("0.5")), SymbolWeight(symbol="SPY", weight=D("0.5")))
    with pytest.raises(ValidationError, match="listed twice: SPY"):
        StrategyContribution(strategy="s", allocation=D(1), weights=ws)


def test_strategy_allocations_must_sum_to_one() -> None:
    ws = (SymbolWeight(symbol="SPY", weight=D(1)),)
    contribution = StrategyContribution(strategy="s", allocation=D("0.5"), weights=ws)
    with pytest.raises(ValidationError, match=r"allocations sum to 0\.5"):
        TargetAllocation(run_id="r", as_of=SESSION, weights=ws, contributions=(contribution,))


def test_dtos_are_frozen_and_closed() -> None:
    ref = ArtifactRef(artifact_id="a", bucket="bucket", key="k")
    with pytest.raises(ValidationError, match="frozen"):
        ref.key = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ArtifactRef(artifact_id="a", bucket="bucket", key="k", secret="x")  # type: ignore[call-arg]


def test_lowercase_or_garbage_symbol_is_refused() -> None:
    with pytest.raises(ValidationError, match="symbol"):
        SymbolWeight(symbol="spy", weight=D(1))


def test_crossed_quote_is_refused_naming_the_symbol() -> None:
    with pytest.raises(ValidationError, match=r"SPY: crossed quote \(bid 101 > ask 100\)"):
        Quote(symbol="SPY", bid=D(101), ask=D(100), timestamp=T0)


def test_zero_price_quote_is_refused() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Quote(symbol="SPY", bid=D(0), ask=D(1), timestamp=T0)


def test_naive_snapshot_time_is_refused() -> None:
    good = snapshot("100", {}, {"SPY": "10"})
    with pytest.raises(ValidationError, match="timezone"):
        good.model_validate({**good.model_dump(), "taken_at": "2026-11-20T16:00:00"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of qty and notional"),
        ({"qty": D(1), "notional": D(5)}, "exactly one of qty and notional"),
        ({"notional": D("0.5")}, "notional >= \\$1"),
        ({"qty": D(1), "order_type": "limit"}, "limit orders need a limit price"),
        ({"notional": D(5), "order_type": "limit", "limit_price": D(1)}, "must be market"),
    ],
)
def test_order_intent_sizing_rules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OrderIntent(client_order_id="c1", run_id="r", symbol="SPY", side=Side.BUY, **kwargs)


def test_plan_item_for_non_fractionable_asset_must_be_whole_shares() -> None:
    with pytest.raises(ValidationError, match="not fractionable, quantity must be whole"):
        PlanItem(
            symbol="UVXY",
            side=Side.BUY,
            price=D(10),
            current_qty=D(0),
            current_value=D(0),
            current_weight=D(0),
            target_weight=D("0.1"),
            target_value=D(100),
            trade_amount=D(95),
            quantity=D("9.5"),
            fractionable=False,
        )


def _order(status: OrderStatus, filled: str) -> OrderResult:
    return OrderResult(
        client_order_id="c",
        broker_order_id="b",
        symbol="SPY",
        side=Side.SELL,
        status=status,
        filled_qty=D(filled),
        filled_avg_price=D(10) if D(filled) else None,
    )


def test_artifact_ids_name_kind_and_run() -> None:
    assert targets({"SPY": "1"}, run_id="run-9").artifact_id == "target_allocation:run-9"


@pytest.mark.parametrize(
    ("bps", "shown"),
    [("-0.04", "0.0"), ("-0.00", "0.0"), ("0.04", "0.0"), ("-0.06", "-0.1"), ("2.11", "2.1")],
)
def test_basis_points_read_to_one_decimal_never_as_minus_zero(bps: str, shown: str) -> None:
    assert bps_text(Decimal(bps)) == shown
