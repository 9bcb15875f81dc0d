"""Published backtests' names and keys: only single, visible, safe key segments get through."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from alchemiser.domain.backtests import (
    BacktestNameError,
    PublishedBacktest,
    backtest_file,
    backtest_name,
    content_type,
)
from alchemiser.domain.keys import backtest_key, summary_key


@pytest.mark.parametrize("name", ["demo", "2021-2025", "spy_only.v2", "A", "x" * 80])
def test_a_plain_name_is_a_backtest_name(name: str) -> None:
    assert backtest_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "-flag", "a b", "x" * 81, "é", "a\n"],
)
def test_a_name_that_could_leave_its_folder_or_hide_is_refused(name: str) -> None:
    with pytest.raises(BacktestNameError, match="is not a backtest name"):
        backtest_name(name)


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        ("tearsheet.html", "text/html; charset=utf-8"),
        ("tearsheet.json", "application/json"),
        ("summary.json", "application/json"),
        ("equity.png", "image/png"),
        ("monthly_returns.png", "image/png"),
    ],
)
def test_the_tearsheet_and_its_charts_are_files_with_their_media_type(file: str, kind: str) -> None:
    assert backtest_file(file) == file
    assert content_type(file) == kind


@pytest.mark.parametrize(
    "file", ["../summary.json", "x.svg", "index.html", ".png", "Equity.png", "a/b.png", ""]
)
def test_any_other_file_is_refused(file: str) -> None:
    with pytest.raises(BacktestNameError, match="is not a file of a published backtest"):
        backtest_file(file)


def test_keys_live_under_the_backtests_prefix_one_folder_per_name() -> None:
    assert backtest_key("demo", "equity.png") == "backtests/demo/equity.png"
    assert summary_key("demo") == "backtests/demo/summary.json"
    with pytest.raises(BacktestNameError):
        backtest_key("..", "summary.json")


def test_a_summary_needs_a_valid_name_and_an_aware_publication_time() -> None:
    line = {
        "name": "demo",
        "first": date(2023, 1, 3),
        "last": date(2023, 6, 30),
        "sessions": 124,
        "total_return": 0.1,
        "sharpe": 1.2,
        "max_drawdown": -0.05,
        "published_at": datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
    }
    assert PublishedBacktest.model_validate(line).name == "demo"
    for bad in ({"name": "../x"}, {"published_at": datetime(2026, 12, 1)}, {"max_drawdown": 0.1}):  # noqa: DTZ001 - the naive time is the point
        with pytest.raises(ValidationError):
            PublishedBacktest.model_validate(line | bad)
