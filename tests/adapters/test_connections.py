"""Reading the alpaca_default connection: base URL, paper flag, refusing empty credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from alchemiser.adapters.airflow.connections import alpaca_settings, base_url
from alchemiser.adapters.airflow.live import check_mode
from alchemiser.adapters.airflow.teardown import final_on_bad_input
from alchemiser.adapters.airflow.variables import portfolio_path
from alchemiser.domain.errors import BrokerError, CircuitBreakerError, ConfigError
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO


@dataclass
class Conn:
    host: str | None = None
    port: int | None = None
    login: str | None = "key"
    password: str | None = "secret"
    extra: dict[str, Any] = field(default_factory=dict)
    conn_id: str = "alpaca_default"

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.extra


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ("http://127.0.0.1:8090", None, "http://127.0.0.1:8090"),
        ("127.0.0.1", 8090, "http://127.0.0.1:8090"),
        ("paper-api.alpaca.markets", None, "https://paper-api.alpaca.markets"),
        ("http://exchange", 8090, "http://exchange:8090"),
    ],
)
def test_base_url_from_host_and_port(
    host: str | None, port: int | None, expected: str | None
) -> None:
    assert base_url(Conn(host=host, port=port)) == expected


def test_paper_is_the_default_and_live_must_be_explicit() -> None:
    assert alpaca_settings(Conn()).paper is True
    assert alpaca_settings(Conn(extra={"paper": False})).paper is False
    assert alpaca_settings(Conn()).venue == "alpaca-paper"


def test_paper_flag_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="extra 'paper' must be true or false"):
        alpaca_settings(Conn(extra={"paper": "no"}))


@pytest.mark.parametrize(("login", "password"), [(None, "s"), ("k", None), ("  ", "s")])
def test_missing_key_or_secret_is_refused_naming_the_connection(
    login: str | None, password: str | None
) -> None:
    with pytest.raises(ConfigError, match=r"connection alpaca_default: .*must not be empty"):
        alpaca_settings(Conn(login=login, password=password))


@pytest.mark.parametrize(
    ("mode", "extra", "host", "error"),
    [
        ("paper", {"paper": True}, None, None),
        ("paper", {"paper": True}, "http://127.0.0.1:1", None),
        ("paper-exchange", {"paper": True}, "http://127.0.0.1:1", None),
        ("live", {"paper": False}, None, None),
        ("paper", {"paper": False}, None, "is LIVE .* live trading needs mode=live"),
        ("live", {"paper": True}, None, "is a paper account"),
        ("paper-exchange", {"paper": True}, None, "points at Alpaca itself"),
        ("sandbox", {"paper": True}, None, "must be one of paper-exchange, paper, live"),
    ],
)
def test_the_mode_param_must_match_the_connection(
    mode: str, extra: dict[str, Any], host: str | None, error: str | None
) -> None:
    settings = alpaca_settings(Conn(extra=extra, host=host))
    if error is None:
        check_mode(mode, settings)
    else:
        with pytest.raises(ConfigError, match=error):
            check_mode(mode, settings)


def test_the_portfolio_param_names_a_config_inside_the_strategies_folder() -> None:
    assert portfolio_path(None) == DEFAULT_PORTFOLIO
    assert portfolio_path("portfolio.yaml") == DEFAULT_PORTFOLIO.resolve()
    with pytest.raises(ConfigError, match=r"must be a \.yaml file under"):
        portfolio_path("../../../etc/passwd.yaml")
    with pytest.raises(ConfigError, match=r"must be a \.yaml file under"):
        portfolio_path("symphonies/tech-trend.clj")


def test_errors_no_retry_can_fix_fail_the_task_at_once() -> None:
    @final_on_bad_input
    def task() -> None:
        raise ConfigError("param mode='live' but connection alpaca_default is a paper account")

    with pytest.raises(AirflowFailException, match="ConfigError: param mode='live'"):
        task()

    @final_on_bad_input
    def flaky() -> None:
        raise BrokerError("get clock: timed out")

    with pytest.raises(BrokerError):  # transient: left to Airflow's retries
        flaky()


def test_a_tripped_circuit_breaker_is_not_retried() -> None:
    # A retry would resume (and trade) the walks the breaker stopped.
    @final_on_bad_input
    def sells() -> None:
        raise CircuitBreakerError("sells: circuit breaker: 3 orders rejected")

    with pytest.raises(AirflowFailException, match="CircuitBreakerError: sells"):
        sells()
