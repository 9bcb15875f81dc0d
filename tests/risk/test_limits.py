"""Risk limits: a plan that breaks any limit is rejected whole, naming the limit and numbers."""

from __future__ import annotations

import pytest

from alchemiser.domain.plan import PlanSettings
from alchemiser.planning.planner import build_plan
from alchemiser.risk.limits import RiskLimitError, RiskLimits, check_plan
from tests.builders import D, snapshot, targets

SETTINGS = PlanSettings(cash_reserve_pct=D("0.01"), min_trade_pct=D(0))
PLAN = build_plan(
    targets({"SPY": "0.7", "BIL": "0.3"}),
    snapshot("2000", {"XLE": ("80", "100")}, {"SPY": "100", "BIL": "100", "XLE": "100"}),
    SETTINGS,
)  # value 10,000: sell XLE 8,000; buy SPY 6,930 and BIL 2,970


def test_the_default_limits_allow_a_complete_switch() -> None:
    check_plan(PLAN, RiskLimits())


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (RiskLimits(max_order_notional=D(5000)), r"sell XLE 8000\.00 exceeds max_order_notional"),
        (RiskLimits(max_order_fraction=D("0.5")), r"sell XLE 8000\.00 is 80\.00% of the portfolio"),
        (RiskLimits(max_session_notional=D(10_000)), r"session trades 17900\.00 exceed"),
        (RiskLimits(max_turnover=D("0.5")), r"turnover 99\.00% exceeds max_turnover 0\.5"),
        (RiskLimits(max_weight=D("0.6")), r"SPY target weight 0\.7 exceeds max_weight 0\.6"),
        (RiskLimits(min_cash=D(500)), r"cash reserve 100\.00 is under min_cash 500"),
    ],
)
def test_each_limit_rejects_the_whole_plan_with_its_numbers(
    limits: RiskLimits, message: str
) -> None:
    with pytest.raises(RiskLimitError, match=message) as caught:
        check_plan(PLAN, limits)
    assert str(caught.value).startswith("plan rejected, nothing placed: ")


def test_every_breach_is_listed_not_only_the_first() -> None:
    with pytest.raises(RiskLimitError) as caught:
        check_plan(PLAN, RiskLimits(max_order_notional=D(1000), max_weight=D("0.5")))
    message = str(caught.value)
    assert message.count("max_order_notional") == 3
    assert "max_weight" in message


def test_limits_refuse_nonsense_values() -> None:
    with pytest.raises(ValueError, match="max_turnover"):
        RiskLimits(max_turnover=D(3))
    with pytest.raises(ValueError, match="max_order_notional"):
        RiskLimits(max_order_notional=D(-1))
