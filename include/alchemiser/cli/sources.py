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
from collections.abc import Iterable
from datetime import date

from alchemiser.bootstrap import alpaca_from_env, build_market_data, build_store, s3_client
from alchemiser.calendars.trading import calendar
from alchemiser.cli.store import store_folder
from alchemiser.domain.keys import BARS_PREFIX
from alchemiser.domain.market import Bar
from alchemiser.domain.report import object_uri
from alchemiser.marketdata.cache import DEFAULT_LOOKBACK_DAYS, BarCache, read_cached
from alchemiser.ports import ObjectStore


def open_store(args: argparse.Namespace) -> ObjectStore:
    """Return the store the arguments choose (see cli.store)."""
    return build_store(args.bucket, store_folder(args), lambda: s3_client(args.endpoint_url))


def load_bars(
    source: str, args: argparse.Namespace, symbols: Iterable[str], start: date, end: date
) -> tuple[dict[str, tuple[Bar, ...]], str]:
    """Return the cached bars of `symbols` (after fetching them for `broker`) and where from."""
    store = open_store(args)
    wanted = sorted(set(symbols))
    where = f"the bar cache {object_uri(store.bucket, BARS_PREFIX)}/"
    if source == "broker":
        settings = alpaca_from_env(os.environ, "--prices broker")
        lookback = (end - start).days + DEFAULT_LOOKBACK_DAYS
        cache = BarCache(store, build_market_data(settings), calendar(), lookback)
        cache.load_history(wanted, end)
        where += f" (filled from {settings.venue})"
    bars = {s: read_cached(store, s) for s in wanted}
    return {s: b for s, b in bars.items() if b}, where
