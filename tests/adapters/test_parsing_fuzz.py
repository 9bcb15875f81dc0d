"""Fuzz the broker adapter's parsing: whatever a server answers, the adapter returns a valid DTO
or raises BrokerError naming the call, never anything else."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import BrokerError

T = TypeVar("T")

VALID_ORDER: dict[str, Any] = {
    "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
    "client_order_id": "alc-b-SPY-0-abc",
    "created_at": "2026-11-20T15:00:00Z",
    "updated_at": "2026-11-20T15:00:01Z",
    "submitted_at": "2026-11-20T15:00:00Z",
    "symbol": "SPY",
    "asset_class": "us_equity",
    "qty": "2",
    "filled_qty": "2",
    "filled_avg_price": "100.5",
    "order_class": "simple",
    "type": "market",
    "side": "buy",
    "time_in_force": "day",
    "status": "filled",
    "extended_hours": False,
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


class _Answer(BaseHTTPRequestHandler):
    body: ClassVar[bytes] = b"{}"
    status: ClassVar[int] = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def broker() -> Iterator[AlpacaBroker]:
    # One broker (and so one client-side rate limiter, 190 requests/min) per test: each test's
    # examples stay under it. 5xx retries are the transport tests' business, not this one's.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings_ = AlpacaSettings(
        key_id="k",
        secret_key="s",
        base_url=f"http://127.0.0.1:{server.server_address[1]}",
        timeout_seconds=2,
    )
    yield AlpacaBroker(settings_)
    server.shutdown()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drop=st.sets(st.sampled_from(sorted(VALID_ORDER)), max_size=4),
    changes=st.dictionaries(st.sampled_from(sorted(VALID_ORDER)), JSON_VALUES, max_size=4),
)
def test_a_mangled_order_is_parsed_or_refused_as_a_broker_error(
    broker: AlpacaBroker, drop: set[str], changes: dict[str, Any]
) -> None:
    body = {k: v for k, v in {**VALID_ORDER, **changes}.items() if k not in drop}
    _Answer.status, _Answer.body = 200, json.dumps(body).encode()
    result = _outcome(lambda: broker.get_order_by_client_id("alc-b-SPY-0-abc"))
    if isinstance(result, BrokerError):
        assert "alc-b-SPY-0-abc" in str(result)
    else:
        assert result is not None
        assert result.filled_qty >= 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=200), status=st.sampled_from([200, 400, 404, 422]))
def test_any_body_for_the_account_is_an_account_or_a_broker_error(
    broker: AlpacaBroker, body: bytes, status: int
) -> None:
    _Answer.status, _Answer.body = status, body
    account = _outcome(broker.get_account)
    if isinstance(account, BrokerError):
        assert "get account" in str(account)
    else:
        assert account.account_id


def _outcome(call: Callable[[], T]) -> T | BrokerError:
    """Return what the call returns, or the BrokerError it raised (anything else escapes)."""
    try:
        return call()
    except BrokerError as exc:
        return exc
