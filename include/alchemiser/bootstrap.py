"""The composition root: the one place that builds real adapters from settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.ports import Adapters, Clock, ObjectStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def build_store(bucket: str, state_dir: str, s3_client: Callable[[], S3Client]) -> ObjectStore:
    """Return the local store under `state_dir` when one is named, else S3 (production).

    The S3 client is built only when S3 is chosen, so a machine without AWS never asks for it.
    """
    if state_dir.strip():
        return LocalObjectStore(Path(state_dir).expanduser(), bucket)
    return S3ObjectStore(s3_client(), bucket)


def build_adapters(
    alpaca: AlpacaSettings, store: ObjectStore, clock: Clock | None = None
) -> Adapters:
    """Wire the Alpaca broker and market data, the object store and the clock."""
    return Adapters(
        broker=AlpacaBroker(alpaca),
        market_data=AlpacaMarketData(alpaca),
        store=store,
        clock=clock or SystemClock(),
    )
