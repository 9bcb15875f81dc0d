"""Fixtures for the paper exchange: a fake clock, a running server, real alpaca-py clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from tests.exchange.clients import ModelDataClient, ModelTradingClient

SESSION = date(2025, 6, 2)  # a regular Monday session
EARLY_CLOSE_SESSION = date(2025, 11, 28)  # day after Thanksgiving, closes 13:00
AUTH = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}


class FakeClock:
    """A real-time stand-in that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_config(**overrides: Any) -> ExchangeConfig:
    """Build a config for a fixed session with a short history (fast to generate)."""
    account = overrides.pop("account", None) or AccountSeed(positions={"SPY": Decimal(10)})
    defaults: dict[str, Any] = {
        "session": SESSION,
        "history_start": date(2025, 1, 1),
        "fill_delay_seconds": 0.2,
        "account": account,
    }
    defaults.update(overrides)
    return ExchangeConfig(**defaults)


StartExchange = Callable[..., PaperExchange]


@pytest.fixture
def start_exchange(clock: FakeClock) -> Iterator[StartExchange]:
    """Start exchanges (fake clock unless given another) and stop them after the test."""
    started: list[PaperExchange] = []

    def start(config: ExchangeConfig | None = None, **kwargs: Any) -> PaperExchange:
        kwargs.setdefault("clock", clock)
        exchange = PaperExchange(config or make_config(), **kwargs)
        exchange.start()
        started.append(exchange)
        return exchange

    yield start
    for exchange in started:
        exchange.stop()


@pytest.fixture
def exchange(start_exchange: StartExchange) -> PaperExchange:
    return start_exchange()


@pytest.fixture
def trading(exchange: PaperExchange) -> ModelTradingClient:
    return ModelTradingClient("key", "secret", paper=True, url_override=exchange.url)


@pytest.fixture
def data(exchange: PaperExchange) -> ModelDataClient:
    return ModelDataClient("key", "secret", url_override=exchange.url)


@pytest.fixture
def http(exchange: PaperExchange) -> Callable[..., requests.Response]:
    """Send a raw authenticated request to the exchange."""

    def send(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**AUTH, **kwargs.pop("headers", {})}
        return requests.request(method, exchange.url + path, headers=headers, timeout=10, **kwargs)

    return send
