"""await_settlement's runtime: one check of the sells and the account, from a connection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airflow.sdk import BaseHook

from alchemiser.adapters.airflow.connections import alpaca_settings
from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.execution.settlement import SettlementStatus
from alchemiser.services.execute import SellsOutput
from alchemiser.services.settlement import check_settlement


def check(conn_id: str, sells: dict[str, Any], tolerance_bps: str) -> dict[str, Any]:
    """Check once (sync: call from a worker, or from a trigger via asyncio.to_thread)."""
    broker = AlpacaBroker(alpaca_settings(BaseHook.get_connection(conn_id)))
    return _check(broker, sells, tolerance_bps)


async def acheck_connection(conn_id: str) -> AlpacaBroker:
    """Build the broker in the triggerer, where connections are read asynchronously."""
    return AlpacaBroker(alpaca_settings(await BaseHook.aget_connection(conn_id)))


def check_with(broker: AlpacaBroker, sells: dict[str, Any], tolerance_bps: str) -> dict[str, Any]:
    """Check once with an already built broker."""
    return _check(broker, sells, tolerance_bps)


def _check(broker: AlpacaBroker, sells: dict[str, Any], tolerance_bps: str) -> dict[str, Any]:
    output = SellsOutput.model_validate(sells)
    status: SettlementStatus = check_settlement(
        broker, output.client_order_ids, output.baseline_budget, Decimal(tolerance_bps)
    )
    return {
        "settled": status.settled,
        "detail": status.describe(),
        **status.model_dump(mode="json"),
    }
