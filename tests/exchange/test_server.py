"""HTTP surface: auth, unknown routes, loopback binding, oracle endpoints and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from alpaca.common.exceptions import APIError

from paper_exchange import ConfigError, PaperExchange
from sandbox.processes import exchange_oracle
from tests.exchange.clients import ModelTradingClient
from tests.exchange.conftest import AUTH, make_config

Http = Callable[..., requests.Response]
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "headers",
    [{}, {"APCA-API-KEY-ID": "key"}, {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": ""}],
)
def test_missing_credentials_are_401(exchange: PaperExchange, headers: dict[str, str]) -> None:
    response = requests.get(exchange.url + "/v2/account", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"code": 40110000, "message": "request is not authorized"}


def test_any_non_empty_credentials_are_accepted_by_alpaca_py(exchange: PaperExchange) -> None:
    assert ModelTradingClient("anything", "else", url_override=exchange.url).get_account().id


def test_unknown_route_is_404_json(http: Http) -> None:
    response = http("GET", "/v2/nothing-here")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"}


def test_unknown_order_id_surfaces_as_404_api_error(trading: ModelTradingClient) -> None:
    with pytest.raises(APIError) as err:
        trading.get_order_by_id("00000000-0000-0000-0000-000000000000")
    assert err.value.status_code == 404


def test_invalid_json_body_is_400(http: Http) -> None:
    response = http(
        "POST", "/v2/orders", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_health_and_oracle_need_no_credentials(exchange: PaperExchange) -> None:
    assert requests.get(exchange.url + "/_exchange/health", timeout=10).status_code == 200
    oracle = exchange_oracle(exchange.url)
    assert oracle == {"orders": [], "count": 0, "rejected_count": 0}


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        PaperExchange(make_config(), host="0.0.0.0")


def test_non_loopback_host_binds_only_with_an_explicit_allow_remote() -> None:
    exchange = PaperExchange(make_config(), host="0.0.0.0", allow_remote=True)
    try:
        url = exchange.start()
        port = url.rsplit(":", 1)[1]
        assert requests.get(f"http://127.0.0.1:{port}/_exchange/health", timeout=5).ok
    finally:
        exchange.stop()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "include")}


def test_cli_prints_ready_line_serves_clock_and_exits_zero_on_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paper_exchange",
            "--port",
            "0",
            "--session",
            "2025-06-02",
            "--history-start",
            "2025-05-01",
            "--position",
            "SPY=3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "alchemiser-exchange listening on "
        assert line.startswith(prefix)
        url = line[len(prefix) :]
        clock = requests.get(url + "/v2/clock", headers=AUTH, timeout=10).json()
        assert clock["is_open"] is True
        position = requests.get(url + "/v2/positions/SPY", headers=AUTH, timeout=10).json()
        assert position["qty"] == "3"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "GET /v2/clock 200" in stderr
    assert "secret" not in stderr.lower()


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "0.0.0.0"],
        ["--partial-fills", "0"],
        ["--session", "2025-06-01"],
        ["--position", "SPY"],
        ["--account-type", "isa"],
    ],
)
def test_cli_bad_arguments_exit_2_with_message(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paper_exchange", "--port", "0", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "error" in result.stderr
    assert result.stdout == ""
