"""Size buys from the buying budget that is actually there (pure)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from alchemiser.domain.plan import PlanItem, Side
from alchemiser.domain.types import BPS, QTY_STEP

MIN_NOTIONAL = Decimal(1)
SCALE_STEP = Decimal("0.000001")


def buy_scale(planned: Decimal, spendable: Decimal) -> Decimal:
    """Return the factor (0..1) by which planned buys must shrink to fit `spendable`."""
    if planned <= 0 or spendable <= 0:
        return Decimal(0)
    return min(Decimal(1), spendable / planned)


def budget_scale(
    planned: Decimal, budget: Decimal, reserve: Decimal, slippage_bps: Decimal
) -> Decimal:
    """Return the factor for the planned buys given the account's buying budget now.

    Two limits: the expected cost stays out of the plan's cash reserve, and the worst case (every
    buy filling `slippage_bps` above the ask, as a market remainder may) is still paid for.
    """
    expected = buy_scale(planned, budget - reserve)
    worst = buy_scale(planned * (1 + slippage_bps / BPS), budget)
    # Rounded down once, here: the scale is reported, and a rounded-down scale never overspends.
    return min(expected, worst).quantize(SCALE_STEP, ROUND_DOWN)


def buy_qty(item: PlanItem, scale: Decimal, ask: Decimal) -> Decimal:
    """Return the shares to buy for one plan item, scaled and priced at the ask; 0 if too small.

    Rounded down (9 decimals, or whole shares when not fractionable) so a buy never exceeds its
    share of the budget; under Alpaca's $1 minimum it is dropped.
    """
    if item.side is not Side.BUY:
        raise ValueError(f"{item.symbol}: not a buy")
    raw = item.trade_amount * scale / ask
    qty = raw.quantize(QTY_STEP if item.fractionable else Decimal(1), ROUND_DOWN)
    if qty <= 0 or qty * ask < MIN_NOTIONAL:
        return Decimal(0)
    return qty
