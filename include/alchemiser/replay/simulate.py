"""Fill a plan against a simulated book at the session's closing prices (pure).

Sells fill first at the close; buys then spend the cash the book actually has, scaled down
together when the plan asked for more, exactly as `execute_buys` treats a live account. A cost
model moves fill prices by its slippage and charges its commission per fill; holdings are still
valued at the close.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from alchemiser.domain.errors import PlanningError
from alchemiser.domain.plan import RebalancePlan, Side
from alchemiser.domain.portfolio import Holding
from alchemiser.domain.replay import CostModel, ReplayBook, SimulatedFill
from alchemiser.domain.types import QTY_STEP
from alchemiser.execution.sizing import buy_scale


def simulate_fills(
    plan: RebalancePlan,
    book: ReplayBook,
    closes: dict[str, Decimal],
    session: date,
    run_id: str,
    *,
    costs: CostModel | None = None,
) -> tuple[tuple[SimulatedFill, ...], ReplayBook]:
    """Return the fills of `plan` at `closes` (moved by `costs`) and the book after them."""
    costs = costs or CostModel()
    fee = costs.commission
    qty = {h.symbol: h.qty for h in book.holdings}
    cash = book.cash
    fills: list[SimulatedFill] = []
    for item in plan.sells:
        price = costs.fill_price(_close(closes, item.symbol), Side.SELL)
        sold = min(item.quantity, qty.get(item.symbol, Decimal(0)))
        if sold > 0:
            qty[item.symbol] = qty.get(item.symbol, Decimal(0)) - sold
            cash += sold * price - fee
            fills.append(
                SimulatedFill(
                    symbol=item.symbol, side=Side.SELL, qty=sold, price=price, commission=fee
                )
            )
    planned = sum((i.trade_amount for i in plan.buys), Decimal(0))
    scale = buy_scale(planned, cash - plan.cash_reserve - fee * len(plan.buys))
    for item in plan.buys:
        price = costs.fill_price(_close(closes, item.symbol), Side.BUY)
        amount = item.trade_amount * scale
        step = QTY_STEP if item.fractionable else Decimal(1)
        bought = (amount / price).quantize(step, ROUND_DOWN)
        if bought > 0 and bought * price + fee <= cash:
            qty[item.symbol] = qty.get(item.symbol, Decimal(0)) + bought
            cash -= bought * price + fee
            fills.append(
                SimulatedFill(
                    symbol=item.symbol, side=Side.BUY, qty=bought, price=price, commission=fee
                )
            )
    holdings = tuple(
        Holding(symbol=s, qty=q, price=_close(closes, s)) for s, q in sorted(qty.items()) if q > 0
    )
    after = ReplayBook(
        run_id=run_id,
        derived_from=(plan.artifact_id, book.artifact_id),
        session=session,
        cash=cash,
        holdings=holdings,
    )
    return tuple(fills), after


def _close(closes: dict[str, Decimal], symbol: str) -> Decimal:
    if symbol not in closes:
        raise PlanningError(f"{symbol}: no closing price for the replayed session")
    return closes[symbol]
