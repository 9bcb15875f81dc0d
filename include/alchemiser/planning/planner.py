"""Turn target weights and a portfolio snapshot into sells and buys.

Quantisation is stated once here: fractional quantities to Alpaca's 9 decimal places, money to
cents, both rounded so that a trade never overshoots its target (sells of whole shares round up
only when the position is being closed; buys always round down).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import PlanningError
from alchemiser.domain.market import AssetInfo, Quote
from alchemiser.domain.plan import PlanItem, PlanSettings, RebalancePlan, Side
from alchemiser.domain.portfolio import PortfolioSnapshot

QTY_STEP = Decimal("0.000000001")
CENT = Decimal("0.01")
WHOLE = Decimal(1)


def build_plan(
    targets: TargetAllocation,
    snapshot: PortfolioSnapshot,
    settings: PlanSettings,
) -> RebalancePlan:
    """Return the trades that move `snapshot` to `targets`, sells first, largest first."""
    value = snapshot.portfolio_value
    if value <= 0:
        raise PlanningError(f"portfolio value is {value}: nothing to rebalance")
    reserve = (value * settings.cash_reserve_pct).quantize(CENT, ROUND_DOWN)
    investable = value - reserve
    threshold = max(settings.min_trade_amount, value * settings.min_trade_pct)
    _refuse_stale_quotes(snapshot, settings)

    symbols = sorted(set(targets.symbols) | {h.symbol for h in snapshot.holdings})
    items: list[PlanItem] = []
    for symbol in symbols:
        item = _plan_symbol(
            symbol,
            targets=targets,
            snapshot=snapshot,
            value=value,
            investable=investable,
            threshold=threshold,
        )
        if item is not None:
            items.append(item)

    def order(item: PlanItem) -> tuple[int, Decimal, str]:
        return (0 if item.side is Side.SELL else 1, -item.trade_amount, item.symbol)

    return RebalancePlan(
        run_id=targets.run_id,
        derived_from=(targets.artifact_id, snapshot.artifact_id),
        as_of=targets.as_of,
        account_id=snapshot.account_id,
        portfolio_value=value,
        buying_budget=snapshot.buying_budget,
        cash_reserve=reserve,
        investable_value=investable,
        settings=settings,
        items=tuple(sorted(items, key=order)),
    )


def _plan_symbol(
    symbol: str,
    *,
    targets: TargetAllocation,
    snapshot: PortfolioSnapshot,
    value: Decimal,
    investable: Decimal,
    threshold: Decimal,
) -> PlanItem | None:
    quote, asset = _require_market(symbol, snapshot)
    price = quote.mid
    holding = snapshot.holding(symbol)
    current_qty = holding.qty if holding else Decimal(0)
    current_value = current_qty * price
    target_weight = targets.weight_of(symbol)
    target_value = investable * target_weight
    delta = target_value - current_value
    closing = target_weight == 0 and current_qty > 0
    if not closing and abs(delta) < threshold:
        return None
    if target_weight > 0 and not asset.tradable:
        raise PlanningError(f"{symbol}: targeted but not tradable at the broker")

    if delta < 0:
        qty = (
            current_qty
            if closing or -delta / price >= current_qty
            else _round_down(-delta / price, asset)
        )
        side = Side.SELL
        amount = (qty * price).quantize(CENT, ROUND_DOWN)
    else:
        qty = _round_down(delta / price, asset)
        side = Side.BUY
        amount = (delta if asset.fractionable else qty * price).quantize(CENT, ROUND_DOWN)
    if qty <= 0 or amount < 1:
        return None
    return PlanItem(
        symbol=symbol,
        side=side,
        price=price,
        current_qty=current_qty,
        current_value=current_value.quantize(CENT, ROUND_DOWN),
        current_weight=min(Decimal(1), current_value / value),
        target_weight=target_weight,
        target_value=target_value.quantize(CENT, ROUND_DOWN),
        trade_amount=amount,
        quantity=qty,
        fractionable=asset.fractionable,
        close_position=side is Side.SELL and qty == current_qty,
    )


def _require_market(symbol: str, snapshot: PortfolioSnapshot) -> tuple[Quote, AssetInfo]:
    quote = snapshot.quote(symbol)
    if quote is None:
        raise PlanningError(f"{symbol}: no quote in the portfolio snapshot; refusing to guess")
    asset = snapshot.asset(symbol)
    if asset is None:
        raise PlanningError(f"{symbol}: unknown to the broker (no asset record)")
    return quote, asset


def _refuse_stale_quotes(snapshot: PortfolioSnapshot, settings: PlanSettings) -> None:
    # Measured against the venue's own newest quote, not our clock: a simulated or delayed
    # venue must not make every quote look stale, and one symbol left behind still shows.
    if not snapshot.quotes:
        return
    newest = max(q.timestamp for q in snapshot.quotes)
    limit = timedelta(seconds=settings.max_quote_age_seconds)
    for quote in snapshot.quotes:
        if newest - quote.timestamp > limit:
            raise PlanningError(
                f"{quote.symbol}: stale quote from {quote.timestamp.isoformat()}, "
                f"{(newest - quote.timestamp).total_seconds():.0f}s older than the newest; "
                "refusing to guess a price"
            )


def _round_down(raw: Decimal, asset: AssetInfo) -> Decimal:
    return raw.quantize(QTY_STEP if asset.fractionable else WHOLE, ROUND_DOWN)
