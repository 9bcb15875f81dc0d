"""The console's backtests: the list, each tearsheet as published, and names that cannot escape."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from alchemiser.adapters.airflow.console import console_app
from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.cli.main import main
from alchemiser.domain.backtests import PublishedBacktest
from alchemiser.ports import ObjectStore
from alchemiser.services.backtests import list_backtests, publish_backtest
from tests.backtest.conftest import sample_bars, write_config, write_csvs
from tests.fakes import FakeStore

PNG = b"\x89PNG\r\n\x1a\n-not-really"
PAGE = (
    "<!doctype html><html><head></head>"
    "<body><h1>Backtest demo</h1><img src='equity.png'></body></html>"
)


def _line(name: str, hour: int, **changes: object) -> PublishedBacktest:
    line = PublishedBacktest(
        name=name,
        first=date(2023, 1, 3),
        last=date(2023, 6, 30),
        sessions=124,
        total_return=0.1234,
        sharpe=1.5,
        max_drawdown=-0.0567,
        benchmark="SPY",
        benchmark_return=0.08,
        strategies=("core",),
        published_at=datetime(2026, 12, 1, hour, tzinfo=UTC),
    )
    return line.model_copy(update=changes)


def _published() -> FakeStore:
    store = FakeStore()
    files = {"tearsheet.html": PAGE.encode(), "tearsheet.json": b"{}", "equity.png": PNG}
    publish_backtest(store, _line("older", 9), files)
    publish_backtest(
        store, _line("demo", 18, total_return=-0.25, benchmark=None, benchmark_return=None), files
    )
    return store


def _client(store: ObjectStore) -> TestClient:
    app = console_app(lambda: store, "/alchemiser")
    app.dependency_overrides[get_user] = object  # a signed-in user
    return TestClient(app)


def test_publishing_writes_the_files_with_their_types_and_the_summary_last() -> None:
    store = _published()
    assert store.content_types["backtests/demo/equity.png"] == "image/png"
    assert store.content_types["backtests/demo/tearsheet.html"] == "text/html; charset=utf-8"
    assert list(store.objects)[-1] == "backtests/demo/summary.json"
    assert [b.name for b in list_backtests(store).published] == ["demo", "older"]


def test_the_list_shows_each_backtest_newest_first_with_its_numbers_and_link() -> None:
    page = _client(_published()).get("/backtests")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td><a href='([^']+)'>(\w+)</a></td>(.*?)</tr>", page.text)
    assert [(href, name) for href, name, _ in rows] == [
        ("/alchemiser/backtests/demo/", "demo"),
        ("/alchemiser/backtests/older/", "older"),
    ]
    demo, older = (re.findall(r"<td>([^<]*)</td>", cells) for _, _, cells in rows)
    assert demo[:3] == ["2023-01-03 to 2023-06-30", "124", "-25.00%"]
    assert demo[3:] == ["-", "1.50", "-5.67%", "2026-12-01 18:00"]
    assert older[3] == "SPY 8.00%"


def test_an_empty_store_lists_none_and_a_bad_summary_is_named_not_fatal() -> None:
    assert "(none)" in _client(FakeStore()).get("/backtests").text
    store = _published()
    store.put("backtests/broken/summary.json", b"{}")
    page = _client(store).get("/backtests")
    assert page.status_code == 200
    assert "Not a backtest summary: backtests/broken/summary.json" in page.text
    assert "/alchemiser/backtests/demo/" in page.text


def test_the_tearsheet_is_served_as_published_with_the_console_navigation() -> None:
    client = _client(_published())
    page = client.get("/backtests/demo/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<h1>Backtest demo</h1><img src='equity.png'>" in page.text
    assert "href='/alchemiser/backtests'" in page.text
    chart = client.get("/backtests/demo/equity.png")
    assert chart.headers["content-type"] == "image/png"
    assert chart.content == PNG


def test_the_folder_without_its_slash_redirects_relatively_so_charts_resolve() -> None:
    response = _client(_published()).get("/backtests/demo", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "demo/"  # below any mount prefix


@pytest.mark.parametrize(
    "path",
    [
        "/backtests/nope/",
        "/backtests/demo/nope.png",
        "/backtests/demo/secret.txt",
        "/backtests/..%2F..%2Fruns/history.json",
        "/backtests/%2E%2E/summary.json",
        "/backtests/.hidden/",
        "/backtests/demo/..%2Fsummary.json",
        "/backtests/demo/%2E%2E",
    ],
)
def test_unknown_names_and_files_and_traversal_are_not_found(path: str, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, "b")
    store.put("runs/history.json", b'{"hidden": "S3CR3T"}')
    store.put("backtests/demo/secret.txt", b"S3CR3T")
    publish_backtest(store, _line("demo", 1), {"tearsheet.html": PAGE.encode()})
    response = _client(store).get(path, follow_redirects=False)
    assert response.status_code == 404, path
    assert "S3CR3T" not in response.text
    assert str(tmp_path) not in response.text


def test_an_anonymous_request_to_a_backtest_is_refused() -> None:
    client = TestClient(console_app(_published, "/alchemiser"))
    for path in ("/backtests", "/backtests/demo/", "/backtests/demo/equity.png"):
        assert client.get(path).status_code == 401, path


def test_the_console_navigation_links_the_backtests() -> None:
    for path in ("/", "/ledger", "/backtests"):
        page = _client(FakeStore()).get(path)
        assert "<a href='/alchemiser/backtests'>Backtests</a>" in page.text, path


@pytest.mark.integration  # opening the store imports boto3, which binds a socket
def test_a_backtest_published_by_the_cli_is_listed_and_its_tearsheet_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = write_csvs(tmp_path / "prices", sample_bars())
    argv = ["backtest", "--portfolio", str(write_config(tmp_path)), "--prices", str(prices)]
    argv += ["--from", "2023-01-01", "--to", "2023-06-30", "--out", str(tmp_path / "out")]
    argv += ["--state-dir", str(tmp_path / "state"), "--bucket", "b", "--publish", "h1-2023"]
    assert main(argv) == 0
    assert "the console shows it at /alchemiser/backtests/h1-2023/" in capsys.readouterr().out
    store = LocalObjectStore(tmp_path / "state", "b")
    doc = json.loads((tmp_path / "out" / "tearsheet.json").read_text())
    (line,) = list_backtests(store).published
    assert (line.first.isoformat(), line.last.isoformat()) == (doc["range"]["from"], "2023-06-30")
    assert line.total_return == doc["metrics"]["total_return"]
    assert line.sharpe == doc["metrics"]["sharpe"]
    assert line.max_drawdown == doc["metrics"]["max_drawdown"]
    assert line.benchmark == "SPY"

    client = _client(store)
    listed = client.get("/backtests").text
    assert f"{doc['metrics']['total_return']:.2%}" in listed
    page = client.get("/backtests/h1-2023/")
    assert page.text.endswith((tmp_path / "out" / "tearsheet.html").read_text().split("<body>")[1])
    for chart in doc["charts"].values():
        assert f"src='{chart}'" in page.text
        served = client.get(f"/backtests/h1-2023/{chart}")
        assert served.headers["content-type"] == "image/png"
        assert served.content == (tmp_path / "out" / chart).read_bytes()
