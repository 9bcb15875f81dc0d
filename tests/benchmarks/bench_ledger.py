"""The trade ledger's cost per order: S3 requests and milliseconds, against a moto S3 server."""

from __future__ import annotations

import time
from decimal import Decimal
from statistics import median

import boto3

from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.plan import Side
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ledger.ledger import TradeLedger
from sandbox.processes import start_s3
from tests.benchmarks import BenchContext, Row
from tests.builders import SESSION

ORDERS = 100


class CountingStore(S3ObjectStore):
    """Counts the S3 requests the ledger makes."""

    requests = 0

    def create(self, key: str, body: bytes) -> str:
        type(self).requests += 1
        return super().create(key, body)

    def read(self, key: str) -> tuple[bytes, str]:
        type(self).requests += 1
        return super().read(key)

    def replace(self, key: str, body: bytes, etag: str) -> str:
        type(self).requests += 1
        return super().replace(key, body, etag)


def _result(cid: str, symbol: str, status: OrderStatus, filled: str) -> OrderResult:
    return OrderResult(
        client_order_id=cid,
        broker_order_id=f"b-{cid}",
        symbol=symbol,
        side=Side.BUY,
        status=status,
        qty=Decimal(1),
        filled_qty=Decimal(filled),
        filled_avg_price=Decimal(100) if Decimal(filled) else None,
    )


def run(ctx: BenchContext) -> list[Row]:
    """Journal ORDERS orders through intended -> submitted -> terminal; report cost per order."""
    with start_s3(ctx.workdir / "s3") as server:
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="bench")
        ledger = TradeLedger(CountingStore(client, "bench"), "acct", SystemClock())
        task = TaskKey(dag_id="d", run_id="bench", task_id="execute_buys")
        per_order_ms = []
        for i in range(ORDERS):
            symbol = f"S{i:03d}"
            cid = client_order_id(task, symbol, Side.BUY)
            intent = OrderIntent(
                client_order_id=cid, run_id="bench", symbol=symbol, side=Side.BUY, qty=Decimal(1)
            )
            started = time.perf_counter()
            ledger.intend(SESSION, task, intent)
            ledger.record(SESSION, task, _result(cid, symbol, OrderStatus.NEW, "0"))
            ledger.record(SESSION, task, _result(cid, symbol, OrderStatus.FILLED, "1"))
            per_order_ms.append((time.perf_counter() - started) * 1000)
    return [
        {
            "metric": "S3 requests per order (intend, submitted, filled)",
            "value": round(CountingStore.requests / ORDERS, 2),
            "unit": "req",
        },
        {
            "metric": "ledger time per order, median",
            "value": round(median(per_order_ms), 2),
            "unit": "ms",
        },
        {
            "metric": "ledger time per order, max",
            "value": round(max(per_order_ms), 2),
            "unit": "ms",
        },
    ]
