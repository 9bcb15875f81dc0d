"""The client-side rate limiter and 429 backoff, against the paper exchange's rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.ratelimit import RateLimiter
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from paper_exchange import ExchangeConfig, PaperExchange
from tests.execution.conftest import SharedClock


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def limited(clock: SharedClock) -> Iterator[PaperExchange]:
    config = ExchangeConfig(
        session=date(2025, 6, 2), history_start=date(2025, 5, 1), rate_limit_per_minute=5
    )
    exchange = PaperExchange(config, clock=clock)
    exchange.start()
    yield exchange
    exchange.stop()


def _broker(exchange: PaperExchange, clock: SharedClock, per_minute: int) -> AlpacaBroker:
    limiter = RateLimiter(
        per_minute=per_minute,
        monotonic=clock.timestamp,
        wall=clock.timestamp,
        sleep=clock.sleep,
    )
    settings = AlpacaSettings(key_id="k", secret_key="s", base_url=exchange.url)
    return AlpacaBroker(settings, trading_limiter=limiter)


def _stats(exchange: PaperExchange) -> dict[str, int]:
    body: dict[str, int] = requests.get(f"{exchange.url}/_exchange/stats", timeout=5).json()
    return body


def test_the_client_side_limiter_keeps_under_the_budget_without_a_single_429(
    limited: PaperExchange, clock: SharedClock
) -> None:
    broker = _broker(limited, clock, per_minute=5)
    for _ in range(12):
        broker.get_clock()
    assert _stats(limited)["rate_limited"] == 0
    assert sum(clock.slept) >= 120  # twelve requests at five a minute span three windows


def test_a_429_is_retried_after_the_reset_the_server_names(
    limited: PaperExchange, clock: SharedClock
) -> None:
    broker = _broker(limited, clock, per_minute=1000)  # the client thinks it has room
    for _ in range(7):
        assert broker.get_clock().is_open
    stats = _stats(limited)
    assert stats["rate_limited"] >= 1
    assert 0 < sum(clock.slept) <= 60  # waited for the window's reset, not a blind backoff


def test_the_exchange_sends_rate_limit_headers(limited: PaperExchange) -> None:
    auth = {"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
    responses = [requests.get(f"{limited.url}/v2/clock", headers=auth, timeout=5) for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert responses[0].headers["X-RateLimit-Limit"] == "5"
    assert responses[4].headers["X-RateLimit-Remaining"] == "0"
    assert int(responses[5].headers["X-RateLimit-Reset"]) % 60 == 0
