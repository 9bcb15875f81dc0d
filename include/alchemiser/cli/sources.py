"""Backtest prices from the object store's bar cache, or the broker's bars fetched into it once.

`cache` reads `marketdata/bars/1Day/<SYMBOL>.parquet` as the DAG's compute_signals leaves it
and fetches nothing. `broker` first brings the cache up to `--to` from the broker's market data
(Alpaca, or any Alpaca-compatible server: APCA_API_KEY_ID, APCA_API_SECRET_KEY and optionally
APCA_API_BASE_URL), reaching back to `--from` minus the live warm-up for a symbol not cached yet,
and then reads it like `cache`: a second run finds the cache fresh and asks the broker nothing.
Imported only for those two sources: boto3 and alpaca-py cost a CSV backtest nothing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from datetime import date

import boto3
from pydantic import ValidationError

from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.bootstrap import build_store
from alchemiser.cli.store import store_folder
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.market import Bar
from alchemiser.domain.report import object_uri
from alchemiser.marketdata.cache import DEFAULT_LOOKBACK_DAYS, PREFIX, BarCache, read_cached
from alchemiser.marketdata.calendar import XnysCalendar
from alchemiser.ports import ObjectStore

KEY_ENV, SECRET_ENV, URL_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"


def open_store(args: argparse.Namespace) -> ObjectStore:
    """Return the store the arguments choose (see cli.store)."""
    return build_store(
        args.bucket,
        store_folder(args),
        lambda: boto3.client("s3", endpoint_url=args.endpoint_url),
    )


def broker_settings(env: Mapping[str, str]) -> AlpacaSettings:
    """Return the market-data connection from Alpaca's usual environment variables."""
    missing = [name for name in (KEY_ENV, SECRET_ENV) if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(f"--prices broker needs {' and '.join(missing)} in the environment")
    try:
        return AlpacaSettings(
            key_id=env[KEY_ENV], secret_key=env[SECRET_ENV], base_url=env.get(URL_ENV)
        )
    except ValidationError as exc:
        raise ConfigError(f"{URL_ENV}: {exc.errors()[0]['msg']}") from exc


def load_bars(
    source: str, args: argparse.Namespace, symbols: Iterable[str], start: date, end: date
) -> tuple[dict[str, tuple[Bar, ...]], str]:
    """Return the cached bars of `symbols` (after fetching them for `broker`) and where from."""
    store = open_store(args)
    wanted = sorted(set(symbols))
    where = f"the bar cache {object_uri(store.bucket, PREFIX)}/"
    if source == "broker":
        settings = broker_settings(os.environ)
        lookback = (end - start).days + DEFAULT_LOOKBACK_DAYS
        cache = BarCache(store, AlpacaMarketData(settings), XnysCalendar(), lookback)
        cache.load_history(wanted, end)
        where += f" (filled from {settings.venue})"
    bars = {s: read_cached(store, s) for s in wanted}
    return {s: b for s, b in bars.items() if b}, where
