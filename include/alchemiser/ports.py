"""The outside world as the use cases see it: one small protocol per system."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from alchemiser.domain.market import (
    AccountState,
    AssetInfo,
    Bar,
    BrokerPosition,
    MarketClock,
    Quote,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, TopOfBook


class Clock(Protocol):
    """Time, injected: the only way logic learns what time it is or waits."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fake clock advances instead)."""
        ...


class SessionCalendar(Protocol):
    """Trading sessions of one exchange: what bar gaps and cache freshness are judged against."""

    def sessions(self, start: date, end: date) -> list[date]:
        """Return every session in [start, end], oldest first."""
        ...


class Broker(Protocol):
    """Account, positions, assets, clock and orders at the venue."""

    @property
    def venue(self) -> str:
        """Return a human name of the venue (no credentials)."""
        ...

    def get_account(self) -> AccountState:
        """Return balances."""
        ...

    def get_positions(self) -> tuple[BrokerPosition, ...]:
        """Return open positions."""
        ...

    def get_assets(self, symbols: Sequence[str]) -> tuple[AssetInfo, ...]:
        """Return venue facts for each symbol; raise for an unknown one."""
        ...

    def get_clock(self) -> MarketClock:
        """Return the venue's clock."""
        ...

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Place an order under the intent's client order id."""
        ...

    def get_order_by_client_id(self, client_order_id: str) -> OrderResult | None:
        """Return the order placed under this client order id, or None if there is none."""
        ...

    def get_orders(
        self, client_order_ids: Sequence[str], since: datetime | None = None
    ) -> tuple[OrderResult, ...]:
        """Return the current state of these orders (one request per batch, not per order).

        `since` (broker time) bounds the list to orders submitted after it; an order outside
        the list is looked up by id. Raise for an order the broker does not know.
        """
        ...

    def find_orders(
        self, client_order_ids: Sequence[str], since: datetime
    ) -> dict[str, OrderResult]:
        """Return those of these orders that exist, submitted after `since`, by client id."""
        ...

    def list_orders(self, since: datetime, prefix: str) -> tuple[OrderResult, ...]:
        """Return every order submitted after `since` whose client order id starts with `prefix`.

        All pages; used by reconciliation to find orders the ledger does not know.
        """
        ...

    def replace_order(
        self, broker_order_id: str, client_order_id: str, limit_price: Decimal
    ) -> OrderResult:
        """Replace an open limit order's price; the replacement is a new order under the new id.

        The unfilled remainder carries over (no qty is sent: alpaca-py only sends whole shares).
        """
        ...

    def cancel_order(self, broker_order_id: str) -> None:
        """Ask the broker to cancel an open order (it may still fill until it is terminal)."""
        ...

    def get_session_hours(self, session: date) -> tuple[datetime, datetime]:
        """Return the open and close of a trading session (early closes included)."""
        ...

    def get_top_of_book(self, symbols: Sequence[str]) -> dict[str, TopOfBook]:
        """Return quotes with displayed sizes; a symbol without a usable quote is left out."""
        ...


class MarketData(Protocol):
    """Daily bars and latest quotes."""

    def get_daily_bars(
        self, symbols: Sequence[str], start: date, end: date
    ) -> dict[str, tuple[Bar, ...]]:
        """Return bars dated within [start, end] per symbol, oldest first."""
        ...

    def get_latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """Return the latest usable quote per symbol; a missing, zero or crossed one is left out."""
        ...


class ObjectStore(Protocol):
    """A bucket of immutable JSON documents."""

    @property
    def bucket(self) -> str:
        """Return the bucket name."""
        ...

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        """Write (or overwrite) one object."""
        ...

    def get(self, key: str) -> bytes:
        """Read one object; raise ArtifactNotFoundError when absent."""
        ...

    def list_keys(self, prefix: str) -> tuple[str, ...]:
        """Return every key under `prefix`, sorted."""
        ...

    def link(self, key: str) -> str:
        """Return a browser address for an object (console or endpoint URL; no credentials)."""
        ...

    def create(self, key: str, body: bytes) -> str:
        """Write only if no object exists at `key`; return its ETag.

        Raise ObjectExistsError otherwise, so two writers can never both create it.
        """
        ...

    def read(self, key: str) -> tuple[bytes, str]:
        """Return an object's body and ETag; raise ArtifactNotFoundError when absent."""
        ...

    def replace(self, key: str, body: bytes, etag: str) -> str:
        """Overwrite only if the object still has `etag`; return the new ETag.

        Raise ObjectChangedError when someone else wrote it since it was read.
        """
        ...


@dataclass(frozen=True)
class Adapters:
    """The ports a use case talks through, built once by the composition root."""

    broker: Broker
    market_data: MarketData
    store: ObjectStore
    clock: Clock
