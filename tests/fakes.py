"""Hand-written test doubles for the ports (fakes over mocks)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alchemiser.domain.errors import (
    ArtifactNotFoundError,
    DuplicateClientOrderIdError,
    ObjectChangedError,
    ObjectExistsError,
    OrderRejectedError,
)
from alchemiser.domain.market import (
    AccountState,
    AssetInfo,
    Bar,
    BrokerPosition,
    MarketClock,
    Quote,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus, TopOfBook
from alchemiser.domain.plan import Side

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that only moves when slept on."""

    current: datetime = T0
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class FakeBroker:
    """An in-memory broker: fills orders at fixed prices after `fill_after_polls` polls."""

    prices: dict[str, Decimal]
    positions: dict[str, Decimal] = field(default_factory=dict)
    cash: Decimal = Decimal(10_000)
    fractionable: set[str] | None = None
    fill_after_polls: int = 0
    is_open: bool = True
    fill_limits: bool = True
    half_spread: Decimal = Decimal("0.01")
    quote_size: Decimal = Decimal(1000)
    calls: list[str] = field(default_factory=list)
    reject: dict[str, OrderRejectedError] = field(default_factory=dict)
    untradable: set[str] = field(default_factory=set)
    orders: dict[str, OrderResult] = field(default_factory=dict)
    submissions: list[str] = field(default_factory=list)
    list_calls: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def venue(self) -> str:
        return "fake"

    def get_account(self) -> AccountState:
        return AccountState(
            account_id="acct-1",
            status="ACTIVE",
            cash=self.cash,
            buying_power=max(Decimal(0), self.cash),
            non_marginable_buying_power=max(Decimal(0), self.cash),
            equity=self.cash + sum(q * self.prices[s] for s, q in self.positions.items()),
        )

    def get_positions(self) -> tuple[BrokerPosition, ...]:
        return tuple(
            BrokerPosition(symbol=s, qty=q, current_price=self.prices[s])
            for s, q in sorted(self.positions.items())
            if q > 0
        )

    def get_assets(self, symbols: Sequence[str]) -> tuple[AssetInfo, ...]:
        return tuple(
            AssetInfo(
                symbol=s,
                tradable=s not in self.untradable,
                fractionable=self.fractionable is None or s in self.fractionable,
            )
            for s in sorted(set(symbols))
        )

    def get_clock(self) -> MarketClock:
        return MarketClock(
            timestamp=T0,
            is_open=self.is_open,
            next_open=T0 + timedelta(days=1),
            next_close=T0 + timedelta(hours=1),
        )

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        self.calls.append("submit")
        self.submissions.append(intent.client_order_id)
        if intent.symbol in self.reject:
            raise self.reject[intent.symbol]
        if intent.client_order_id in self.orders:
            raise DuplicateClientOrderIdError(
                "client_order_id must be unique", status=422, code=40010001
            )
        price = self.prices[intent.symbol]
        qty = intent.qty if intent.qty is not None else (intent.notional or 0) / price
        result = OrderResult(
            client_order_id=intent.client_order_id,
            broker_order_id=f"b-{next(self._ids)}",
            symbol=intent.symbol,
            side=intent.side,
            status=OrderStatus.NEW,
            qty=intent.qty,
            notional=intent.notional,
            filled_qty=Decimal(0),
            limit_price=intent.limit_price,
            submitted_at=T0,
        )
        return self._place(result, qty, price)

    def _place(self, result: OrderResult, qty: Decimal, price: Decimal) -> OrderResult:
        cid = result.client_order_id
        self.orders[cid] = result
        self._pending = getattr(self, "_pending", {})
        if result.limit_price is not None and not self.fill_limits:
            return result
        self._pending[cid] = (qty, price, self.fill_after_polls)
        if self.fill_after_polls == 0:
            self._fill(cid)
        return self.orders[cid]

    def _by_broker_id(self, broker_order_id: str) -> OrderResult:
        return next(o for o in self.orders.values() if o.broker_order_id == broker_order_id)

    def replace_order(
        self, broker_order_id: str, client_order_id: str, limit_price: Decimal
    ) -> OrderResult:
        self.calls.append("replace")
        old = self._by_broker_id(broker_order_id)
        if old.is_terminal:
            raise OrderRejectedError(f"order is already {old.status}", status=422, code=42210000)
        if client_order_id in self.orders:
            raise DuplicateClientOrderIdError(
                "client_order_id must be unique", status=422, code=40010001
            )
        self._pending.pop(old.client_order_id, None)
        self.orders[old.client_order_id] = old.model_copy(update={"status": OrderStatus.REPLACED})
        remaining = (old.qty or Decimal(0)) - old.filled_qty
        new = old.model_copy(
            update={
                "client_order_id": client_order_id,
                "broker_order_id": f"b-{next(self._ids)}",
                "qty": remaining,
                "filled_qty": Decimal(0),
                "filled_avg_price": None,
                "limit_price": limit_price,
                "status": OrderStatus.NEW,
            }
        )
        return self._place(new, remaining, self.prices[old.symbol])

    def cancel_order(self, broker_order_id: str) -> None:
        self.calls.append("cancel")
        old = self._by_broker_id(broker_order_id)
        if old.is_terminal:
            raise OrderRejectedError(f"order is already {old.status}", status=422, code=42210000)
        self._pending.pop(old.client_order_id, None)
        self.orders[old.client_order_id] = old.model_copy(update={"status": OrderStatus.CANCELED})

    def list_orders(self, since: datetime, prefix: str) -> tuple[OrderResult, ...]:
        self.calls.append("list")
        return tuple(self.orders[c] for c in sorted(self.orders) if c.startswith(prefix))

    def find_orders(
        self, client_order_ids: Sequence[str], since: datetime
    ) -> dict[str, OrderResult]:
        self.calls.append("find")
        return {c: self.orders[c] for c in client_order_ids if c in self.orders}

    def get_session_hours(self, session: date) -> tuple[datetime, datetime]:
        self.calls.append("calendar")
        return T0 - timedelta(hours=2), T0 + timedelta(hours=1)

    def get_top_of_book(self, symbols: Sequence[str]) -> dict[str, TopOfBook]:
        self.calls.append("quotes")
        return {
            s: TopOfBook(
                quote=Quote(
                    symbol=s,
                    bid=self.prices[s] - self.half_spread,
                    ask=self.prices[s] + self.half_spread,
                    timestamp=T0,
                ),
                bid_size=self.quote_size,
                ask_size=self.quote_size,
            )
            for s in symbols
            if s in self.prices
        }

    def _fill(self, cid: str) -> None:
        qty, price, _ = self._pending.pop(cid)
        order = self.orders[cid]
        sign = 1 if order.side is Side.BUY else -1
        price = order.limit_price or price
        self.positions[order.symbol] = self.positions.get(order.symbol, Decimal(0)) + sign * qty
        self.cash -= sign * qty * price
        self.orders[cid] = order.model_copy(
            update={"status": OrderStatus.FILLED, "filled_qty": qty, "filled_avg_price": price}
        )

    def get_order_by_client_id(self, client_order_id: str) -> OrderResult | None:
        return self.orders.get(client_order_id)

    def get_orders(
        self, client_order_ids: Sequence[str], since: datetime | None = None
    ) -> tuple[OrderResult, ...]:
        self.calls.append("list")
        self.list_calls += 1
        for cid, (qty, price, polls) in list(getattr(self, "_pending", {}).items()):
            if polls <= 1:
                self._fill(cid)
            else:
                self._pending[cid] = (qty, price, polls - 1)
        return tuple(self.orders[c] for c in client_order_ids)


@dataclass
class FakeMarketData:
    """Quotes a fixed spread around given mids; bars are not used by fixed strategies."""

    prices: dict[str, Decimal]
    half_spread: Decimal = Decimal("0.01")

    def get_daily_bars(
        self, symbols: Sequence[str], start: date, end: date
    ) -> dict[str, tuple[Bar, ...]]:
        return {s: () for s in symbols}

    def get_latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return {
            s: Quote(
                symbol=s,
                bid=self.prices[s] - self.half_spread,
                ask=self.prices[s] + self.half_spread,
                timestamp=T0,
            )
            for s in symbols
        }


@dataclass
class FakeStore:
    """A dict of objects."""

    bucket: str = "test-bucket"
    objects: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        self.objects[key] = body
        self.content_types[key] = content_type

    def list_keys(self, prefix: str) -> tuple[str, ...]:
        return tuple(sorted(k for k in self.objects if k.startswith(prefix)))

    def link(self, key: str) -> str:
        return f"memory://{self.bucket}/{key}"

    def create(self, key: str, body: bytes) -> str:
        if key in self.objects:
            raise ObjectExistsError(key)
        self.put(key, body)
        return self._etag(key)

    def read(self, key: str) -> tuple[bytes, str]:
        return self.get(key), self._etag(key)

    def replace(self, key: str, body: bytes, etag: str) -> str:
        if key not in self.objects or self._etag(key) != etag:
            raise ObjectChangedError(key)
        self.put(key, body)
        return self._etag(key)

    def _etag(self, key: str) -> str:
        return hashlib.md5(self.objects[key]).hexdigest()

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ArtifactNotFoundError(key)
        return self.objects[key]


class WeekdayCalendar:
    """Every Monday to Friday: a session calendar for synthetic data without holidays."""

    def sessions(self, start: date, end: date) -> list[date]:
        """Return the weekdays in [start, end]."""
        days = range(start.toordinal(), end.toordinal() + 1)
        return [d for d in map(date.fromordinal, days) if d.weekday() < 5]
