"""Turn target weights and a portfolio snapshot into sells and buys.

Quantisation is stated once here: fractional quantities to Alpaca's 9 decimal places, money to
cents, both rounded so that a trade never overshoots its target (sells of whole shares round up
only when the position is being closed; buys always round down).

A symbol that cannot be traded this session (the broker says it is not tradable, or it has no
usable quote) is held as it is: its position is kept, a target it does not hold stays in cash,
and the other symbols are rebalanced among themselves with the money that is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import PlanningError
from alchemiser.domain.market import AssetInfo, Quote
from alchemiser.domain.plan import (
    HeldSymbol,
    HoldReason,
    PlanItem,
    PlanSettings,
    RebalancePlan,
    Side,
)
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.types import CENT, QTY_STEP

WHOLE = Decimal(1)


@dataclass(frozen=True)
class _Blocked:
    reason: HoldReason
    detail: str


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
    threshold = settings.trade_threshold(value)

    symbols = sorted(set(targets.symbols) | {h.symbol for h in snapshot.holdings})
    blocked = {s: b for s in symbols if (b := _blocked_by(s, snapshot, settings)) is not None}
    scale = _tradable_scale(targets, snapshot, blocked, investable)
    items: list[PlanItem] = []
    held: list[HeldSymbol] = []
    for symbol in symbols:
        block = blocked.get(symbol)
        item = _plan_symbol(
            symbol,
            targets=targets,
            snapshot=snapshot,
            value=value,
            investable=investable * (1 if block else scale),
            threshold=threshold,
        )
        if item is None:
            continue
        if block is None:
            items.append(item)
            continue
        holding = snapshot.holding(symbol)
        held.append(
            HeldSymbol(
                symbol=symbol,
                reason=block.reason,
                detail=block.detail,
                qty=holding.qty if holding else Decimal(0),
                value=(holding.market_value if holding else Decimal(0)).quantize(CENT, ROUND_DOWN),
                target_weight=targets.weight_of(symbol),
            )
        )

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
        held=tuple(held),
    )


def _blocked_by(
    symbol: str, snapshot: PortfolioSnapshot, settings: PlanSettings
) -> _Blocked | None:
    """Return why `symbol` cannot be traded this session, or None when it can."""
    asset = snapshot.asset(symbol)
    if asset is None:
        raise PlanningError(f"{symbol}: unknown to the broker (no asset record)")
    if not asset.tradable:
        return _Blocked(HoldReason.NOT_TRADABLE, "the broker reports it not tradable")
    quote = snapshot.quote(symbol)
    if quote is None:
        return _Blocked(
            HoldReason.NO_USABLE_QUOTE,
            f"no usable quote (missing, zero or crossed) after {settings.quote_refetches} "
            "re-fetches",
        )
    age = quote_lag(quote, snapshot)
    if age > timedelta(seconds=settings.max_quote_age_seconds):
        return _Blocked(
            HoldReason.STALE_QUOTE,
            f"stale quote from {quote.timestamp.isoformat()}, {age.total_seconds():.0f}s older "
            f"than the newest (max {settings.max_quote_age_seconds}s)",
        )
    return None


def quote_lag(quote: Quote, snapshot: PortfolioSnapshot) -> timedelta:
    """Return how far `quote` is behind the snapshot's newest quote."""
    # Measured against the venue's own newest quote, not our clock: a simulated or delayed
    # venue must not make every quote look stale, and one symbol left behind still shows.
    return max(q.timestamp for q in snapshot.quotes) - quote.timestamp


def _tradable_scale(
    targets: TargetAllocation,
    snapshot: PortfolioSnapshot,
    blocked: dict[str, _Blocked],
    investable: Decimal,
) -> Decimal:
    """Return the share of their targets the tradable symbols can have with the money left.

    A held position keeps its value out of the investable money; a held target's weight stays
    in cash. So the tradable symbols get their full targets unless the held positions are
    worth more than their own targets, and then all of them shrink by the same factor.
    """
    if not blocked or investable <= 0:
        return Decimal(1)
    held_value = sum((h.market_value for h in snapshot.holdings if h.symbol in blocked), Decimal(0))
    tradable_weight = sum(
        (targets.weight_of(s) for s in targets.symbols if s not in blocked), Decimal(0)
    )
    if tradable_weight <= 0:
        return Decimal(1)
    return max(
        Decimal(0), min(Decimal(1), (investable - held_value) / (investable * tradable_weight))
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
    asset = snapshot.asset(symbol)
    assert asset is not None  # blocked_by refused unknown symbols
    quote = snapshot.quote(symbol)
    holding = snapshot.holding(symbol)
    # A held symbol without a usable quote is valued at the broker's mark: enough to tell
    # whether it needed a trade, never a price to trade at (it is held).
    # A target without a quote or a position needs a buy whatever its price: 1 stands in.
    price = quote.mid if quote is not None else holding.price if holding else Decimal(1)
    current_qty = holding.qty if holding else Decimal(0)
    current_value = current_qty * price
    target_weight = targets.weight_of(symbol)
    target_value = investable * target_weight
    delta = target_value - current_value
    closing = target_weight == 0 and current_qty > 0
    if not closing and abs(delta) < threshold:
        return None

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


def _round_down(raw: Decimal, asset: AssetInfo) -> Decimal:
    return raw.quantize(QTY_STEP if asset.fractionable else WHOLE, ROUND_DOWN)
