"""One symbol's walk: its orders step by step, the fills summed from the broker, its result.

The k-th order a walk places goes under `client_order_id(task, symbol, side, k)`: order 0 is
the first limit, each price step is a replacement (Alpaca's PATCH creates a new order, and we
give it the next id), and the last is the market order for the remainder, sent only after the
resting limit is canceled and terminal. A walk therefore never has two open orders, and a
retried task rebuilds it from whichever of its ids exist at the broker. A price level that
rounds to the resting price costs no replace, so order k is not always price level k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from alchemiser.domain.orders import OrderResult, OrderStatus, WalkOutcome, WalkResult
from alchemiser.domain.plan import Side

BPS = Decimal(10_000)
SLIPPAGE_QUANTUM = Decimal("0.01")
AVG_QUANTUM = Decimal("0.000000001")


@dataclass
class Walk:
    """Mutable state of one walk while its phase runs."""

    symbol: str
    side: Side
    target_qty: Decimal
    ids: tuple[str, ...] = field(repr=False)
    orders: dict[int, OrderResult] = field(default_factory=dict)
    step: int = -1
    level: int = 0
    arrival_mid: Decimal | None = None
    extra_ticks: int = 0
    next_step_at: datetime | None = None
    going_to_market: bool = False
    outcome: WalkOutcome | None = None
    message: str = ""

    @property
    def live(self) -> OrderResult | None:
        """Return the walk's current (latest) order, if one was placed."""
        return self.orders.get(self.step)

    @property
    def done(self) -> bool:
        """Return True once the walk has an outcome."""
        return self.outcome is not None

    @property
    def filled_qty(self) -> Decimal:
        """Return shares filled over every step, from the broker's numbers."""
        return sum((o.filled_qty for o in self.orders.values()), Decimal(0))

    @property
    def remaining_qty(self) -> Decimal:
        """Return shares still to trade."""
        return max(Decimal(0), self.target_qty - self.filled_qty)

    @property
    def unsettled_ids(self) -> list[str]:
        """Return client ids whose final fills are not known yet (open, or just replaced)."""
        return [o.client_order_id for o in self.orders.values() if not o.is_terminal]

    def record(self, order: OrderResult) -> None:
        """Store the latest broker view of one of this walk's orders."""
        step = self.ids.index(order.client_order_id)
        self.orders[step] = order
        self.step = max(self.step, step)

    def finish(self, message: str = "") -> None:
        """Set the outcome from what filled (rejected only when nothing did)."""
        live = self.live
        if self.remaining_qty == 0:
            self.outcome = WalkOutcome.FILLED
        elif self.filled_qty > 0:
            self.outcome = WalkOutcome.PARTIAL
        elif live is not None and live.status is OrderStatus.REJECTED:
            self.outcome = WalkOutcome.REJECTED
        else:
            self.outcome = WalkOutcome.UNFILLED
        self.message = message

    def hold(self, message: str) -> None:
        """End the walk because its symbol cannot trade this session (kept as it is)."""
        self.outcome = WalkOutcome.HELD if self.filled_qty == 0 else WalkOutcome.PARTIAL
        self.message = message

    def reject(self, message: str) -> None:
        """End the walk because the broker or a check refused it."""
        self.outcome = WalkOutcome.REJECTED if self.filled_qty == 0 else WalkOutcome.PARTIAL
        self.message = message

    def result(self) -> WalkResult:
        """Return the walk's fills and execution quality."""
        filled = self.filled_qty
        cost = sum(
            (o.filled_qty * o.filled_avg_price for o in self.orders.values() if o.filled_avg_price),
            Decimal(0),
        )
        avg = (cost / filled).quantize(AVG_QUANTUM) if filled else None
        return WalkResult(
            symbol=self.symbol,
            side=self.side,
            outcome=self.outcome or WalkOutcome.UNFILLED,
            target_qty=self.target_qty,
            filled_qty=filled,
            avg_fill_price=avg,
            arrival_mid=self.arrival_mid,
            slippage_bps=self._slippage(avg),
            time_to_fill_seconds=self._time_to_fill(),
            steps=len(self.orders),
            ended_with_market=any(o.limit_price is None for o in self.orders.values()),
            client_order_ids=tuple(self.orders[k].client_order_id for k in sorted(self.orders)),
            message=self.message,
        )

    def _slippage(self, avg: Decimal | None) -> Decimal | None:
        if avg is None or not self.arrival_mid:
            return None
        sign = 1 if self.side is Side.BUY else -1
        return (sign * (avg - self.arrival_mid) / self.arrival_mid * BPS).quantize(SLIPPAGE_QUANTUM)

    def _time_to_fill(self) -> float | None:
        # Broker timestamps on both ends, so our clock's offset from the venue does not matter.
        first = self.orders.get(min(self.orders)) if self.orders else None
        last = self.live
        if self.outcome is not WalkOutcome.FILLED or first is None or last is None:
            return None
        if first.submitted_at is None or last.filled_at is None:
            return None
        return max(0.0, (last.filled_at - first.submitted_at).total_seconds())
