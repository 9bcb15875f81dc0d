"""Publish a backtest's tearsheet to the object store, and read published ones back.

The console reads what this writes: every file of the tearsheet under `backtests/NAME/`, then
the summary, so the list never shows a backtest whose files are still on their way. Publishing
a name again overwrites it (a chart the new tearsheet lacks stays, unlinked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from alchemiser.domain.backtests import (
    SUMMARY_FILE,
    PublishedBacktest,
    content_type,
)
from alchemiser.domain.keys import BACKTESTS_PREFIX, backtest_key, summary_key
from alchemiser.ports import ObjectStore


def summarize_tearsheet(
    name: str, doc: Mapping[str, Any], published_at: datetime
) -> PublishedBacktest:
    """Return the list line of a tearsheet document (tearsheet.json's contract)."""
    metrics = doc["metrics"]
    benchmark = doc.get("benchmark")
    return PublishedBacktest(
        name=name,
        first=date.fromisoformat(doc["range"]["from"]),
        last=date.fromisoformat(doc["range"]["to"]),
        sessions=metrics["sessions"],
        total_return=metrics["total_return"],
        sharpe=metrics["sharpe"],
        max_drawdown=metrics["max_drawdown"],
        benchmark=benchmark["symbol"] if benchmark else None,
        benchmark_return=benchmark["metrics"]["total_return"] if benchmark else None,
        strategies=tuple(doc["strategies"]),
        published_at=published_at,
    )


def publish_backtest(
    store: ObjectStore, summary: PublishedBacktest, files: Mapping[str, bytes]
) -> str:
    """Write a tearsheet's files, then its summary; return the summary's key."""
    for file, body in files.items():
        store.put(backtest_key(summary.name, file), body, content_type(file))
    key = summary_key(summary.name)
    store.put(key, summary.model_dump_json(indent=1).encode())
    return key


@dataclass(frozen=True)
class Catalog:
    """The published backtests, most recently published first, and summaries that did not parse."""

    published: tuple[PublishedBacktest, ...]
    unreadable: tuple[str, ...]


def list_backtests(store: ObjectStore) -> Catalog:
    """Return every published backtest; one bad summary does not hide the others."""
    keys = [k for k in store.list_keys(BACKTESTS_PREFIX) if k.endswith(f"/{SUMMARY_FILE}")]
    found, unreadable = [], []
    for key in keys:
        try:
            found.append(PublishedBacktest.model_validate_json(store.get(key)))
        except ValidationError:
            unreadable.append(key)
    found.sort(key=lambda b: b.published_at, reverse=True)
    return Catalog(tuple(found), tuple(unreadable))


def read_backtest_file(store: ObjectStore, name: str, file: str) -> bytes:
    """Return one file of a published backtest; ArtifactNotFoundError when absent."""
    return store.get(backtest_key(name, file))
