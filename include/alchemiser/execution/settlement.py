"""Have the sells finished and has their money arrived as usable buying power?"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import Field

from alchemiser.domain.market import AccountState
from alchemiser.domain.orders import OrderResult
from alchemiser.domain.types import BPS, Frozen, Money


class SettlementStatus(Frozen):
    """One look at the account and the sell orders."""

    settled: bool
    open_orders: tuple[str, ...] = Field(description="client order ids not yet terminal")
    proceeds: Money
    expected_budget: Money
    available_budget: Money

    @property
    def sells_terminal(self) -> bool:
        """Return True when no sell order can change any more."""
        return not self.open_orders

    def describe(self) -> str:
        """Return what is still missing, in words."""
        if self.settled:
            return f"settled: buying budget {self.available_budget} (proceeds {self.proceeds})"
        parts = []
        if self.open_orders:
            parts.append(f"{len(self.open_orders)} sell orders open: {', '.join(self.open_orders)}")
        if self.available_budget < self.expected_budget:
            parts.append(
                f"buying budget {self.available_budget} below expected {self.expected_budget}"
            )
        return "; ".join(parts)


def settlement_status(
    account: AccountState,
    sells: tuple[OrderResult, ...],
    baseline_budget: Decimal,
    tolerance_bps: Decimal,
) -> SettlementStatus:
    """Settled when every sell is terminal and the budget grew by the proceeds, less tolerance."""
    open_orders = tuple(o.client_order_id for o in sells if not o.is_terminal)
    proceeds = sum((o.filled_value for o in sells), Decimal(0))
    expected = baseline_budget + proceeds * (1 - tolerance_bps / BPS)
    available = account.buying_budget
    return SettlementStatus(
        settled=not open_orders and available >= expected,
        open_orders=open_orders,
        proceeds=proceeds,
        expected_budget=expected,
        available_budget=available,
    )


def ready_to_buy(
    status: SettlementStatus,
    sells_finished_at: datetime,
    now: datetime,
    settlement_wait_seconds: float | None,
) -> bool:
    """Return True when the buys may start: settled, or done waiting for what settles.

    Without a wait (margin accounts: proceeds are usable at once) only "settled" will do. With
    one (cash accounts: T+1), once every sell is terminal and the wait since the sells finished
    has passed, the buys go ahead on the settled cash alone and report what they could not buy.
    """
    if status.settled:
        return True
    if settlement_wait_seconds is None or not status.sells_terminal:
        return False
    return now >= sells_finished_at + timedelta(seconds=settlement_wait_seconds)
