"""await_settlement's runtime: one check of the sells and the account, from a connection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alchemiser.adapters.airflow.connections import aalpaca_from_connection, alpaca_from_connection
from alchemiser.bootstrap import build_broker, build_clock
from alchemiser.ports import Broker
from alchemiser.services.execute import SellsOutput
from alchemiser.services.settlement import check_ready_to_buy


def check(
    conn_id: str, sells: dict[str, Any], tolerance_bps: str, settlement_wait: float | None = None
) -> dict[str, Any]:
    """Check once (sync: call from a worker, or from a trigger via asyncio.to_thread)."""
    return _check(
        build_broker(alpaca_from_connection(conn_id)), sells, tolerance_bps, settlement_wait
    )


async def acheck_connection(conn_id: str) -> Broker:
    """Build the broker in the triggerer, where connections are read asynchronously."""
    return build_broker(await aalpaca_from_connection(conn_id))


def check_with(
    broker: Broker,
    sells: dict[str, Any],
    tolerance_bps: str,
    settlement_wait: float | None = None,
) -> dict[str, Any]:
    """Check once with an already built broker."""
    return _check(broker, sells, tolerance_bps, settlement_wait)


def _check(
    broker: Broker, sells: dict[str, Any], tolerance_bps: str, settlement_wait: float | None
) -> dict[str, Any]:
    output = SellsOutput.model_validate(sells)
    ready, status = check_ready_to_buy(
        broker, build_clock(), output, Decimal(tolerance_bps), settlement_wait
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
