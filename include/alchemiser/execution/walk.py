"""One symbol's walk: its orders step by step, the fills summed from the broker, its result.

The k-th order a walk places goes under `client_order_id(task, symbol, side, k)`: order 0 is
the first limit, each price step is a replacement (Alpaca's PATCH creates a new order, and we
give it the next id), and the last id is the final order for the remainder (a collared limit,
or a market order when the operator opts in), sent only after the resting limit is canceled
and terminal. A walk therefore never has two open orders, and a retried task rebuilds it from
whichever of its ids exist at the broker. A price level that rounds to the resting price costs
no replace, so order k is not always price level k.

A shortfall worth less than the broker's minimum order ($1), or under the quantity step, is
dust: the walk is complete (FILLED) and the dust is reported, not traded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from alchemiser.domain.orders import (
    FinalOrder,
    OrderResult,
    OrderStatus,
    WalkOutcome,
    WalkResult,
    WalkStop,
)
from alchemiser.domain.plan import Side
from alchemiser.domain.types import BPS, QTY_STEP
from alchemiser.execution.sizing import MIN_NOTIONAL

SLIPPAGE_QUANTUM = Decimal("0.01")
"""Slippage is reported to a hundredth of a basis point."""
CARRIED = "the next session's plan picks it up"


@dataclass
class Walk:
    """Mutable state of one walk while its phase runs."""

    symbol: str
    side: Side
    target_qty: Decimal
    ids: tuple[str, ...] = field(repr=False)
    plan_price: Decimal | None = None
    orders: dict[int, OrderResult] = field(default_factory=dict)
    step: int = -1
    level: int = 0
    arrival_mid: Decimal | None = None
    extra_ticks: int = 0
    next_step_at: datetime | None = None
    going_final: bool = False
    final_index: int | None = None
    final_deadline: datetime | None = None
    stopping: tuple[WalkStop | None, str] | None = None
    stopped_by: WalkStop | None = None
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
    def at_final(self) -> bool:
        """Return True when the walk's latest order is its final one."""
        return self.final_index is not None and self.final_index == self.step

    @property
    def dust_qty(self) -> Decimal:
        """Return the shortfall when it is too small to trade (0 when none or a real one)."""
        left = self.remaining_qty
        price = self.arrival_mid or self.plan_price
        if self.filled_qty == 0:
            return Decimal(0)  # an order that traded nothing is unfilled, however small
        if left < QTY_STEP or (price is not None and left * price < MIN_NOTIONAL):
            return left
        return Decimal(0)

    @property
    def complete(self) -> bool:
        """Return True when nothing, or only dust, is left to trade."""
        return self.remaining_qty == self.dust_qty

    @property
    def unsettled_ids(self) -> list[str]:
        """Return client ids whose final fills are not known yet (open, or just replaced)."""
        return [o.client_order_id for o in self.orders.values() if not o.is_terminal]

    def step_due(self, now: datetime, limit_steps: int) -> bool:
        """Return True when the resting limit is due for its next price step at `now`."""
        live = self.live
        return (
            not self.done
            and not self.going_final
            and self.stopping is None
            and not self.at_final
            and live is not None
            and not live.is_terminal
            and live.limit_price is not None
            and self.level < limit_steps - 1
            and self.next_step_at is not None
            and now >= self.next_step_at
        )

    def record(self, order: OrderResult) -> None:
        """Store the latest broker view of one of this walk's orders."""
        step = self.ids.index(order.client_order_id)
        self.orders[step] = order
        self.step = max(self.step, step)

    def finish(self, message: str = "", stopped_by: WalkStop | None = None) -> None:
        """Set the outcome from what filled (rejected only when nothing did)."""
        live = self.live
        if self.complete:
            self.outcome = WalkOutcome.FILLED
            stopped_by = None
            if self.dust_qty > 0:
                message = (
                    f"complete: {self.dust_qty} shares short is dust (under the $1 minimum "
                    "order or the quantity step), not traded"
                )
        elif self.filled_qty > 0:
            self.outcome = WalkOutcome.PARTIAL
        elif live is not None and live.status is OrderStatus.REJECTED:
            self.outcome = WalkOutcome.REJECTED
        else:
            self.outcome = WalkOutcome.UNFILLED
        self.message = message
        self.stopped_by = stopped_by

    def after_terminal(self, live: OrderResult) -> bool:
        """Conclude the walk once its latest order is terminal; True when the final order is due."""
        if self.unsettled_ids:
            return False  # a replaced step's final fills are not in yet
        if self.complete:
            self.finish()
        elif self.stopping is not None:
            self.finish(self.stopping[1], self.stopping[0])
        elif self.going_final and live.status is OrderStatus.CANCELED:
            return True
        else:
            self.finish(f"{live.client_order_id} ended {live.status.value} with shares left")
        return False

    def finish_at_deadline(self) -> None:
        """End the walk at the phase deadline, its open order canceled."""
        live = self.live
        if self.stopping is not None:
            self.finish(self.stopping[1], self.stopping[0])
        elif self.at_final and live is not None and live.limit_price is not None:
            self.finish(
                f"phase deadline passed: final limit {live.limit_price} (collar) left "
                f"{self.remaining_qty} unfilled, canceled; {CARRIED}",
                "collar",
            )
        else:
            self.finish("phase deadline passed: open orders canceled")

    def hold(self, message: str) -> None:
        """End the walk because its symbol cannot trade this session (kept as it is)."""
        self.outcome = WalkOutcome.HELD if self.filled_qty == 0 else WalkOutcome.PARTIAL
        self.message = message

    def reject(self, message: str) -> None:
        """End the walk because the broker or a check refused it."""
        self.outcome = WalkOutcome.REJECTED if self.filled_qty == 0 else WalkOutcome.PARTIAL
        self.message = message

    @property
    def avg_fill_price(self) -> Decimal | None:
        """Return the average price over every step's fills (None before any fill)."""
        filled = self.filled_qty
        cost = sum(
            (o.filled_qty * o.filled_avg_price for o in self.orders.values() if o.filled_avg_price),
            Decimal(0),
        )
        return (cost / filled).quantize(QTY_STEP) if filled else None

    def result(self) -> WalkResult:
        """Return the walk's fills and execution quality."""
        filled = self.filled_qty
        avg = self.avg_fill_price
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
            final_order=self._final_kind(),
            dust_qty=self.dust_qty if self.outcome is WalkOutcome.FILLED else Decimal(0),
            stopped_by=self.stopped_by,
            client_order_ids=tuple(self.orders[k].client_order_id for k in sorted(self.orders)),
            message=self.message,
        )

    def _final_kind(self) -> FinalOrder | None:
        final = None if self.final_index is None else self.orders.get(self.final_index)
        if final is None:
            return None
        return "market" if final.limit_price is None else "collared_limit"

    def slippage_bps(self) -> Decimal | None:
        """Return the fills' slippage so far against the arrival mid (None before any fill)."""
        return self._slippage(self.avg_fill_price)

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
