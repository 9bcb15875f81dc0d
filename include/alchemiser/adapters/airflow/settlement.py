"""await_settlement's runtime: one check of the sells and the account, from a connection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airflow.sdk import BaseHook

from alchemiser.adapters.airflow.connections import alpaca_settings
from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.clock import SystemClock
from alchemiser.services.execute import SellsOutput
from alchemiser.services.settlement import check_ready_to_buy


def check(
    conn_id: str, sells: dict[str, Any], tolerance_bps: str, settlement_wait: float | None = None
) -> dict[str, Any]:
    """Check once (sync: call from a worker, or from a trigger via asyncio.to_thread)."""
    broker = AlpacaBroker(alpaca_settings(BaseHook.get_connection(conn_id)))
    return _check(broker, sells, tolerance_bps, settlement_wait)


async def acheck_connection(conn_id: str) -> AlpacaBroker:
    """Build the broker in the triggerer, where connections are read asynchronously."""
    return AlpacaBroker(alpaca_settings(await BaseHook.aget_connection(conn_id)))


def check_with(
    broker: AlpacaBroker,
    sells: dict[str, Any],
    tolerance_bps: str,
    settlement_wait: float | None = None,
) -> dict[str, Any]:
    """Check once with an already built broker."""
    return _check(broker, sells, tolerance_bps, settlement_wait)


def _check(
    broker: AlpacaBroker, sells: dict[str, Any], tolerance_bps: str, settlement_wait: float | None
) -> dict[str, Any]:
    output = SellsOutput.model_validate(sells)
    ready, status = check_ready_to_buy(
        broker, SystemClock(), output, Decimal(tolerance_bps), settlement_wait
    )
    detail = status.describe()
    if ready and not status.settled:
        detail = f"settlement wait of {settlement_wait}s over, buying with settled cash: {detail}"
    return {
        "settled": status.settled,
        "ready": ready,
        "detail": detail,
        **status.model_dump(mode="json"),
    }
