"""Published backtests: their names, their file names and the line the console lists.

A backtest published as NAME lives under `backtests/NAME/`: `summary.json` (a
`PublishedBacktest`, written last, so a listed backtest is complete), `tearsheet.json`,
`tearsheet.html` and its PNG charts side by side, as `--out` writes them. Names and file names
come from URLs in the console, so both are checked here before they become keys (the keys
themselves are built in `domain/keys.py`, with every other key).
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import AwareDatetime, Field

from alchemiser.domain.errors import ConfigError
from alchemiser.domain.types import Frozen

SUMMARY_FILE = "summary.json"
TEARSHEET_HTML = "tearsheet.html"
TEARSHEET_JSON = "tearsheet.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_CHART = re.compile(r"[a-z][a-z0-9_-]{0,39}\.png")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
}


class BacktestNameError(ConfigError):
    """A backtest name or file name that could not be a single safe key segment."""


def backtest_name(name: str) -> str:
    """Return `name` if it is a valid backtest name (letters, digits, '.', '_', '-'; <= 80)."""
    if not _NAME.fullmatch(name):
        raise BacktestNameError(
            f"{name!r} is not a backtest name: use up to 80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def backtest_file(file: str) -> str:
    """Return `file` if a published backtest may hold it: the tearsheet or a PNG chart."""
    if file in (TEARSHEET_HTML, TEARSHEET_JSON, SUMMARY_FILE) or _CHART.fullmatch(file):
        return file
    raise BacktestNameError(f"{file!r} is not a file of a published backtest")


def content_type(file: str) -> str:
    """Return the media type of a published backtest's file, by its extension."""
    return CONTENT_TYPES[file[file.rfind(".") :]]


class PublishedBacktest(Frozen):
    """A published backtest as the console's list shows it (metrics are fractions)."""

    schema_version: int = Field(default=1, ge=1)
    name: str = Field(pattern=rf"^{_NAME.pattern}$")
    first: date = Field(description="the first session of the range")
    last: date = Field(description="the last session of the range")
    sessions: int = Field(ge=1)
    total_return: float
    sharpe: float
    max_drawdown: float = Field(le=0, description="the deepest fall from a peak (negative)")
    benchmark: str | None = None
    benchmark_return: float | None = None
    strategies: tuple[str, ...] = ()
    published_at: AwareDatetime
