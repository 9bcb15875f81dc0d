"""Limits on a rebalance plan, with safe defaults; a breach names the limit and the numbers."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.plan import RebalancePlan, Side
from alchemiser.domain.types import Frozen, NonNegativeMoney, Weight


class RiskLimitError(AlchemiserError):
    """The plan breaks a risk limit; nothing was placed."""


class RiskLimits(Frozen):
    """What one session may do. Fractions are of the portfolio value at planning time."""

    max_order_notional: NonNegativeMoney | None = Field(
        default=None, description="largest single order in dollars (None: no dollar cap)"
    )
    max_order_fraction: Weight = Field(
        default=Decimal(1), description="largest single order as a fraction of the portfolio"
    )
    max_session_notional: NonNegativeMoney | None = Field(
        default=None, description="sum of all orders of the session in dollars"
    )
    max_turnover: Decimal = Field(
        default=Decimal(1),
        ge=0,
        le=2,
        description="max(sells, buys) / portfolio value; 1 allows a complete switch",
    )
    max_weight: Weight = Field(default=Decimal(1), description="largest target weight per symbol")
    min_cash: NonNegativeMoney = Field(
        default=Decimal(0), description="cash the plan must leave untouched (its reserve)"
    )


def check_plan(plan: RebalancePlan, limits: RiskLimits) -> None:
    """Raise RiskLimitError listing every limit the plan breaks."""
    value = plan.portfolio_value
    breaches = []
    for item in plan.items:
        order = f"{item.side.value} {item.symbol} {item.trade_amount:.2f}"
        if limits.max_order_notional is not None and item.trade_amount > limits.max_order_notional:
            breaches.append(f"{order} exceeds max_order_notional {limits.max_order_notional}")
        if value > 0 and item.trade_amount > value * limits.max_order_fraction:
            breaches.append(
                f"{order} is {item.trade_amount / value:.2%} of the portfolio, over "
                f"max_order_fraction {limits.max_order_fraction}"
            )
        if item.target_weight > limits.max_weight:
            breaches.append(
                f"{item.symbol} target weight {item.target_weight} exceeds max_weight "
                f"{limits.max_weight}"
            )
    sells = sum((i.trade_amount for i in plan.items if i.side is Side.SELL), Decimal(0))
    buys = sum((i.trade_amount for i in plan.items if i.side is Side.BUY), Decimal(0))
    total = sells + buys
    if limits.max_session_notional is not None and total > limits.max_session_notional:
        breaches.append(
            f"session trades {total:.2f} exceed max_session_notional {limits.max_session_notional}"
        )
    if value > 0 and max(sells, buys) / value > limits.max_turnover:
        breaches.append(
            f"turnover {max(sells, buys) / value:.2%} exceeds max_turnover {limits.max_turnover}"
        )
    if plan.cash_reserve < limits.min_cash:
        breaches.append(f"cash reserve {plan.cash_reserve} is under min_cash {limits.min_cash}")
    if breaches:
        raise RiskLimitError("plan rejected, nothing placed: " + "; ".join(breaches))
