"""The composition root: the one place that builds real adapters from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.ports import Adapters, Clock, ObjectStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def build_adapters(
    alpaca: AlpacaSettings, s3_client: S3Client, bucket: str, clock: Clock | None = None
) -> Adapters:
    """Wire the Alpaca broker and market data, the S3 store and the clock."""
    return Adapters(
        broker=AlpacaBroker(alpaca),
        market_data=AlpacaMarketData(alpaca),
        store=build_store(s3_client, bucket),
        clock=clock or SystemClock(),
    )


def build_store(s3_client: S3Client, bucket: str) -> ObjectStore:
    """Return the object store the ledger and the artifacts live in."""
    return S3ObjectStore(s3_client, bucket)
