"""Composer's rebalance settings: the first session of a period, the drift band, held weights."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from alchemiser.domain.allocation import (
    StrategyContribution,
    TargetAllocation,
    weights_from_mapping,
)
from alchemiser.strategy.errors import SymphonySyntaxError
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import RebalanceRule
from alchemiser.strategy.rebalance import Held, apply_rebalance, decide, drifted
from alchemiser.strategy.symphony import parse_symphony

D = Decimal
MON = date(2024, 6, 3)  # the first session of June 2024
# A doubles from MON to the end of June, B stays flat.
DAYS = [MON + timedelta(days=i) for i in range(60)]
HISTORY = PriceHistory.from_closes(
    {
        "A": [(d, 100.0 + 100.0 * min(i, 27) / 27) for i, d in enumerate(DAYS)],
        "B": [(d, 50.0) for d in DAYS],
    }
)
HELD = Held(MON, {"A": D("0.5"), "B": D("0.5")})


def test_the_config_map_gives_the_rule_and_a_threshold_alone_means_no_calendar() -> None:
    def rule(config: str) -> RebalanceRule:
        return parse_symphony(f'(defsymphony "s" {config} (asset "A"))').rebalance

    assert rule("{}") == RebalanceRule("daily", None)
    assert rule("{:rebalance-frequency :monthly}") == RebalanceRule("monthly", None)
    assert rule("{:rebalance-threshold 0.1}") == RebalanceRule("none", D("0.1"))
    assert rule('{:rebalance-frequency "weekly" :rebalance-threshold 0.05}') == RebalanceRule(
        "weekly", D("0.05")
    )
    with pytest.raises(SymphonySyntaxError, match="rebalance frequency must be one of"):
        rule("{:rebalance-frequency :hourly}")
    with pytest.raises(SymphonySyntaxError, match="threshold must be between 0 and 1"):
        rule("{:rebalance-threshold 5}")


def test_held_weights_drift_with_prices() -> None:
    # A doubled, B did not: 0.5 * 2 against 0.5 * 1.
    assert drifted(HELD, HISTORY, MON + timedelta(days=27)) == {
        "A": D("0.666666667"),
        "B": D("0.333333333"),
    }


@pytest.mark.parametrize(
    ("frequency", "day", "trades"),
    [
        ("weekly", MON + timedelta(days=4), False),  # Friday of the same ISO week
        ("weekly", MON + timedelta(days=7), True),  # next Monday
        ("monthly", date(2024, 6, 28), False),
        ("monthly", date(2024, 7, 1), True),
        ("quarterly", date(2024, 6, 28), False),
        ("quarterly", date(2024, 7, 1), True),
        ("yearly", date(2024, 7, 1), False),
        ("none", date(2024, 7, 1), False),
    ],
)
def test_a_calendar_rule_trades_on_the_first_session_of_a_new_period(
    frequency: str, day: date, trades: bool
) -> None:
    rule = RebalanceRule(frequency, None)  # type: ignore[arg-type]
    decision = decide(rule, HELD, {"B": D(1)}, HISTORY, day)
    assert decision.rebalance is trades
    assert decision.weights == ({"B": D(1)} if trades else drifted(HELD, HISTORY, day))
    assert decision.held == (Held(day, {"B": D(1)}) if trades else HELD)


def test_a_threshold_rule_trades_only_when_the_drift_leaves_the_band() -> None:
    rule = RebalanceRule("none", D("0.1"))
    wanted = {"A": D("0.5"), "B": D("0.5")}
    small = decide(rule, HELD, wanted, HISTORY, MON + timedelta(days=5))  # A +18.5%: drift 4%
    assert not small.rebalance
    assert "drift 4.24% <= threshold 10.00%" in small.reason
    large = decide(rule, HELD, wanted, HISTORY, MON + timedelta(days=27))  # drift 16.7%
    assert large.rebalance
    assert large.weights == wanted
    assert "drift 16.67% > threshold 10.00%" in large.reason


def test_the_first_run_and_a_daily_rule_always_trade() -> None:
    assert decide(RebalanceRule("monthly"), None, {"A": D(1)}, HISTORY, MON).rebalance
    assert decide(RebalanceRule("daily"), HELD, {"A": D(1)}, HISTORY, MON + timedelta(1)).rebalance


def _targets(day: date) -> TargetAllocation:
    parts = (
        StrategyContribution(
            strategy="fixed", allocation=D("0.5"), weights=weights_from_mapping({"B": D(1)})
        ),
        StrategyContribution(
            strategy="sym",
            allocation=D("0.5"),
            weights=weights_from_mapping({"A": D(1)}),
            kind="symphony",
        ),
    )
    return TargetAllocation(
        run_id="r",
        as_of=day,
        weights=weights_from_mapping({"A": D("0.5"), "B": D("0.5")}),
        contributions=parts,
    )


def test_a_strategy_not_due_contributes_its_held_weights_and_says_why() -> None:
    """The replay loop: feed each session's holdings into the next."""
    rules = {"sym": RebalanceRule("monthly")}
    held: dict[str, Held] = {"sym": HELD}
    targets, held = apply_rebalance(_targets(date(2024, 6, 14)), rules, held, HISTORY)
    sym = targets.contributions[1]
    assert not sym.rebalanced
    assert sym.trace[0].what.startswith("holding: last rebalanced 2024-06-03 (monthly")
    assert {w.symbol for w in sym.weights} == {"A", "B"}  # still what it bought on June 3
    assert targets.weight_of("B") > D("0.5")
    assert held == {"sym": HELD}
    targets, held = apply_rebalance(_targets(date(2024, 7, 1)), rules, held, HISTORY)
    assert targets.contributions[1].rebalanced
    assert {w.symbol: w.weight for w in targets.weights} == {"A": D("0.5"), "B": D("0.5")}
    assert held == {"sym": Held(date(2024, 7, 1), {"A": D(1)})}
