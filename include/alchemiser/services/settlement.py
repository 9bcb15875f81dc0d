"""await_settlement's single look: are the sells done and their proceeds spendable?"""

from __future__ import annotations

from decimal import Decimal

from alchemiser.execution.settlement import SettlementStatus, ready_to_buy, settlement_status
from alchemiser.ports import Broker, Clock
from alchemiser.services.execute import SellsOutput


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


def check_ready_to_buy(
    broker: Broker,
    clock: Clock,
    sells: SellsOutput,
    tolerance_bps: Decimal,
    settlement_wait_seconds: float | None,
) -> tuple[bool, SettlementStatus]:
    """Look once: may the buys start (settled, or the settlement wait is over)?"""
    status = check_settlement(broker, sells.client_order_ids, sells.baseline_budget, tolerance_bps)
    ready = ready_to_buy(status, sells.finished_at, clock.now(), settlement_wait_seconds)
    return ready, status
