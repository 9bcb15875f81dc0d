"""`python -m alchemiser backtest`: the tearsheet contract and errors that name their cause."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import boto3
import pytest

from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.calendars.trading import calendar
from alchemiser.cli.main import main
from alchemiser.domain.keys import bars_key
from alchemiser.marketdata.parquet import encode
from paper_exchange import ExchangeConfig, PaperExchange
from sandbox.processes import start_s3
from tests.backtest.conftest import sample_bars, write_config, write_csvs

RANGE = ["--from", "2023-01-01", "--to", "2023-06-30"]


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    return write_csvs(tmp_path / "prices", sample_bars())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def _run(config: Path, prices: Path, out: Path, *extra: str) -> int:
    argv = ["backtest", "--portfolio", str(config), "--prices", str(prices), "--out", str(out)]
    return main([*argv, *RANGE, *extra])


def test_writes_the_tearsheet_contract(
    config: Path, prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = _run(config, prices, out, "--cost-bps", "5", "--explain", "2023-03-01")
    stdout = capsys.readouterr().out
    assert code == 0
    doc = json.loads((out / "tearsheet.json").read_text())
    sessions = [
        s.day.isoformat() for s in calendar().sessions_between(date(2023, 1, 1), date(2023, 6, 30))
    ]
    for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown"):
        assert isinstance(doc["metrics"][key], float), key
    for key in ("calmar", "turnover", "trades", "exposure"):
        assert isinstance(doc["metrics"][key], int | float), key
    assert [d for d, _ in doc["equity"]] == sessions
    assert list(doc["targets"]) == sessions
    assert all(abs(sum(t.values()) - 1) < 1e-6 for t in doc["targets"].values())
    assert doc["cost_model"] == {"slippage_bps": "5", "commission": "0"}
    assert doc["benchmark"]["symbol"] == "SPY"
    assert doc["metrics"]["trades"] == len(doc["trades"]) > 0
    for name in ("equity", "drawdown", "allocation", "attribution"):
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    html = (out / "tearsheet.html").read_text()
    assert "slippage 5 bps" in html
    assert "equity.png" in html
    # Self-contained for a web page serving the folder under any prefix (the console): every
    # link is a file beside the page, never an absolute path or another origin.
    links = re.findall(r"(?:src|href)=['\"]([^'\"]+)", html)
    assert {"equity.png", "drawdown.png", "allocation.png", "attribution.png"} <= set(links)
    assert all("/" not in link and ":" not in link and (out / link).is_file() for link in links)
    assert "session 2023-03-01:" in stdout
    assert "tech-trend.clj:8:4  current-price(SPY)=" in stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown-config", "nope.yaml: cannot read portfolio config"),
        ("weekend", "no trading session between 2023-07-01 and 2023-07-02"),
        ("missing-file", "missing prices in"),
        ("past-the-data", "no bar on 2024-07-01"),
    ],
)
def test_bad_input_exits_non_zero_naming_it(
    change: str,
    message: str,
    config: Path,
    prices: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["backtest", "--portfolio", str(config), "--prices", str(prices)]
    argv += ["--out", str(tmp_path / "out"), *RANGE]
    if change == "unknown-config":
        argv[2] = str(tmp_path / "nope.yaml")
    elif change == "weekend":
        argv[-3:] = ["2023-07-01", "--to", "2023-07-02"]
    elif change == "missing-file":
        (prices / "GLD.csv").unlink()
        message += f" {prices}: no GLD.csv"
    else:
        argv[-3:] = ["2024-06-01", "--to", "2024-07-05"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1
    assert message in err
    assert not (tmp_path / "out" / "tearsheet.json").exists()


def _curve(out: Path) -> tuple[object, object, object]:
    """Return the equity, targets and trades of a tearsheet (decimals compared by value)."""
    doc = json.loads((out / "tearsheet.json").read_text(), parse_float=Decimal)
    trades = [{k: _number(v) for k, v in t.items()} for t in doc["trades"]]
    return doc["equity"], doc["targets"], trades


def _number(value: object) -> object:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _store_run(config: Path, source: str, state: Path, out: Path) -> int:
    argv = ["backtest", "--portfolio", str(config), "--prices", source, "--out", str(out)]
    return main([*argv, *RANGE, "--state-dir", str(state), "--bucket", "b"])


def test_the_bar_cache_gives_the_same_backtest_as_the_csv_folder(
    config: Path, prices: Path, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "state", "b")
    for symbol, bars in sample_bars().items():
        store.put(bars_key(symbol), encode(bars))
    assert _run(config, prices, tmp_path / "csv") == 0
    assert _store_run(config, "cache", tmp_path / "state", tmp_path / "cached") == 0
    assert _curve(tmp_path / "cached") == _curve(tmp_path / "csv")


def test_the_bar_cache_on_s3_is_read_with_endpoint_url(
    config: Path, prices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "t"), ("AWS_SECRET_ACCESS_KEY", "t")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with start_s3(tmp_path / "s3") as server:
        client = boto3.client("s3", endpoint_url=server.url)
        client.create_bucket(Bucket="bars")
        store = S3ObjectStore(client, "bars")
        for symbol, bars in sample_bars().items():
            store.put(bars_key(symbol), encode(bars))
        argv = ["backtest", "--portfolio", str(config), "--prices", "cache"]
        argv += ["--out", str(tmp_path / "s3out"), "--endpoint-url", server.url, "--bucket", "bars"]
        assert main([*argv, *RANGE]) == 0
    assert _run(config, prices, tmp_path / "csv") == 0
    assert _curve(tmp_path / "s3out") == _curve(tmp_path / "csv")


def test_the_brokers_bars_are_fetched_into_the_cache_once(
    config: Path,
    prices: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exchange = PaperExchange(ExchangeConfig(session=date(2024, 6, 28), bars_dir=prices), port=0)
    exchange.start()
    monkeypatch.setenv("APCA_API_KEY_ID", "key")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "secret")
    monkeypatch.setenv("APCA_API_BASE_URL", exchange.url)
    try:
        assert _store_run(config, "broker", tmp_path / "state", tmp_path / "fetched") == 0
    finally:
        exchange.stop()
    assert _run(config, prices, tmp_path / "csv") == 0
    assert _curve(tmp_path / "fetched") == _curve(tmp_path / "csv")
    cached = LocalObjectStore(tmp_path / "state", "b").list_keys("marketdata/bars/1Day/")
    assert "marketdata/bars/1Day/TQQQ.parquet" in cached
    # The exchange is gone: a second run finds the cache fresh and asks the broker nothing.
    assert _store_run(config, "broker", tmp_path / "state", tmp_path / "again") == 0
    assert _curve(tmp_path / "again") == _curve(tmp_path / "csv")


@pytest.mark.parametrize(
    ("source", "env", "message"),
    [
        ("cache", {}, "missing prices in the bar cache "),
        ("broker", {"APCA_API_KEY_ID": "k"}, "--prices broker needs APCA_API_SECRET_KEY"),
    ],
)
def test_a_store_source_without_the_prices_exits_non_zero_naming_them(
    source: str,
    env: dict[str, str],
    message: str,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "AIRFLOW_CONN_AWS_DEFAULT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _store_run(config, source, tmp_path / "state", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert message in err
    if source == "cache":
        assert "/b/marketdata/bars/1Day/: no BIL, GLD, IEF, QQQ, SOXL, SPY," in err
    assert not (tmp_path / "out" / "tearsheet.json").exists()


def test_a_publish_name_that_is_not_one_key_segment_is_refused_before_the_run(
    config: Path, prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _run(config, prices, tmp_path / "out", "--publish", "../runs")
    assert exit_.value.code == 2
    assert "'../runs' is not a backtest name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
