"""Size a phase's new buys from the buying budget there is when the buys start.

The plan priced its buys at the snapshot; by the buys the sells have raised what they raised
and prices have moved. Each new buy is scaled to the budget (`execution.sizing`) and priced at a
quote the walk would trade on, or, without one, at the dearest price the walk still trades at.
"""

from __future__ import annotations

from decimal import Decimal

import structlog

from alchemiser.domain.errors import InsufficientBuyingPowerError
from alchemiser.domain.plan import RebalancePlan
from alchemiser.execution.quotes import Quotes
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.sizing import budget_scale, buy_qty
from alchemiser.execution.walk import Walk

log = structlog.get_logger(__name__)


def size_buys(
    quotes: Quotes,
    plan: RebalancePlan,
    *,
    walks: list[Walk],
    budget: Decimal,
    settings: ExecutionSettings,
) -> Decimal | None:
    """Set each new buy walk's quantity from the budget now; return the scale applied.

    Walks adopted from an earlier try are not re-sized: they keep the size that try chose.
    """
    by_symbol = {w.symbol: w for w in walks}
    todo = [item for item in plan.buys if by_symbol[item.symbol].live is None]
    if not todo:
        return None
    planned = sum((i.trade_amount for i in todo), Decimal(0))
    scale = budget_scale(planned, budget, plan.cash_reserve, settings.buy_slippage_buffer_bps)
    books = quotes.books([i.symbol for i in todo], retry=False)
    now = quotes.clock.now()
    for item in todo:
        walk, book = by_symbol[item.symbol], books.get(item.symbol)
        # A quote the walk would refuse (missing, stale, wide, far from the plan's price) sizes
        # nothing: the walk re-fetches it and may trade once it recovers, so a bad print here
        # would buy its price's worth at the real one. Size instead at the dearest price the
        # walk still trades at (the plan's, moved by max_price_move_fraction): the buy may come
        # out a little short, reported unbought, but never spends more than its share.
        ask = item.price * (1 + settings.max_price_move_fraction)
        if book is not None and quotes.problem(book, now) is None and not quotes.moved(walk, book):
            ask = book.quote.ask
        walk.target_qty = buy_qty(item, scale, ask)
    adopted = any(w.live is not None for w in walks)
    if not adopted and not any(by_symbol[i.symbol].target_qty > 0 for i in todo):
        # With an earlier try's orders adopted, the phase goes on: they are worked, the new
        # buys that sized to nothing are reported unbought.
        raise InsufficientBuyingPowerError(
            f"buys of {planned} planned but only {budget - plan.cash_reserve} spendable (budget "
            f"{budget} less reserve {plan.cash_reserve}): nothing bought"
        )
    if scale < 1:
        log.warning("buys scaled down", scale=str(scale), budget=str(budget), planned=str(planned))
    return scale
