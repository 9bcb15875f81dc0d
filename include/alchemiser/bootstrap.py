"""The composition root: the one place that builds real adapters from settings.

Every entry point (the Airflow tasks and the settlement trigger, the CLI, the sandbox) reads its
settings where they live (Airflow connections and Variables, arguments, the environment) and
asks this module for the broker, market data, object store and clock. Nothing else constructs
an adapter or an SDK client; tests/test_architecture.py checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from pydantic import ValidationError

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.clock import SystemClock
from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.errors import ConfigError
from alchemiser.ports import Adapters, Broker, Clock, MarketData, ObjectStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY_ENV, SECRET_ENV, URL_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"


def s3_client(
    endpoint_url: str | None = None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
) -> S3Client:
    """Return a boto3 S3 client: boto3's usual configuration, or a local server's endpoint.

    The keys and region are for a local server that takes any; left None, boto3 reads them
    from the environment and its config files as usual (production).
    """
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
    )


def build_store(bucket: str, state_dir: str, s3: Callable[[], S3Client]) -> ObjectStore:
    """Return the local store under `state_dir` when one is named, else S3 (production).

    The S3 client is built only when S3 is chosen, so a machine without AWS never asks for it.
    """
    if state_dir.strip():
        return LocalObjectStore(Path(state_dir).expanduser(), bucket)
    return S3ObjectStore(s3(), bucket)


def build_broker(alpaca: AlpacaSettings) -> Broker:
    """Return the Alpaca broker (trading and the quotes it prices orders with)."""
    return AlpacaBroker(alpaca)


def build_market_data(alpaca: AlpacaSettings) -> MarketData:
    """Return Alpaca's market data (daily bars, latest quotes)."""
    return AlpacaMarketData(alpaca)


def build_clock() -> Clock:
    """Return the wall clock."""
    return SystemClock()


def build_adapters(
    alpaca: AlpacaSettings, store: ObjectStore, clock: Clock | None = None
) -> Adapters:
    """Wire the Alpaca broker and market data, the object store and the clock."""
    return Adapters(
        broker=build_broker(alpaca),
        market_data=build_market_data(alpaca),
        store=store,
        clock=clock or build_clock(),
    )


def alpaca_from_env(env: Mapping[str, str], what: str) -> AlpacaSettings:
    """Return Alpaca settings from its usual environment variables; `what` names the user."""
    missing = [name for name in (KEY_ENV, SECRET_ENV) if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(f"{what} needs {' and '.join(missing)} in the environment")
    try:
        return AlpacaSettings(
            key_id=env[KEY_ENV], secret_key=env[SECRET_ENV], base_url=env.get(URL_ENV)
        )
    except ValidationError as exc:
        raise ConfigError(f"{URL_ENV}: {exc.errors()[0]['msg']}") from exc
