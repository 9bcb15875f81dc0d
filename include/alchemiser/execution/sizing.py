"""Size buys from the buying budget that is actually there (pure)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from alchemiser.domain.orders import OrderIntent
from alchemiser.domain.plan import PlanItem, Side

CENT = Decimal("0.01")
MIN_NOTIONAL = Decimal(1)


def buy_scale(planned: Decimal, spendable: Decimal) -> Decimal:
    """Return the factor (0..1) by which planned buys must shrink to fit `spendable`."""
    if planned <= 0 or spendable <= 0:
        return Decimal(0)
    return min(Decimal(1), spendable / planned)


def buy_intent(
    item: PlanItem, scale: Decimal, client_order_id: str, run_id: str
) -> OrderIntent | None:
    """Return the order for one buy, scaled; None when it shrinks below tradable size.

    Fractionable assets are bought by notional (exact money, no overspend on slippage); others
    in whole shares sized at the plan price, which the plan's cash reserve cushions.
    """
    if item.side is not Side.BUY:
        raise ValueError(f"{item.symbol}: not a buy")
    if item.fractionable:
        notional = (item.trade_amount * scale).quantize(CENT, ROUND_DOWN)
        if notional < MIN_NOTIONAL:
            return None
        return OrderIntent(
            client_order_id=client_order_id,
            run_id=run_id,
            symbol=item.symbol,
            side=Side.BUY,
            notional=notional,
        )
    qty = (item.quantity * scale).to_integral_value(ROUND_DOWN)
    if qty < 1:
        return None
    return OrderIntent(
        client_order_id=client_order_id, run_id=run_id, symbol=item.symbol, side=Side.BUY, qty=qty
    )
