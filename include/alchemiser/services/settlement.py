"""await_settlement's single look: are the sells done and their proceeds spendable?"""

from __future__ import annotations

from decimal import Decimal

from alchemiser.execution.settlement import SettlementStatus, settlement_status
from alchemiser.ports import Broker


def check_settlement(
    broker: Broker,
    client_order_ids: tuple[str, ...],
    baseline_budget: Decimal,
    tolerance_bps: Decimal,
) -> SettlementStatus:
    """Return the settlement status of these sell orders against the pre-sell budget."""
    orders = broker.get_orders(client_order_ids)
    account = broker.get_account()
    return settlement_status(account, orders, baseline_budget, tolerance_bps)
