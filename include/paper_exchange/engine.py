"""The matching engine: one account and its orders; the fill model is fills.py, the funds checks
admission.py.

Time is injected: ``clock`` returns the real (wall or fake) UTC time and every public method
first fills whatever became due up to that moment, so no background thread is needed.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from paper_exchange.admission import buying_power, check_funds, held_for_orders
from paper_exchange.calendar import NEW_YORK, MarketCalendar, SessionClock
from paper_exchange.config import AssetSpec, ExchangeConfig
from paper_exchange.errors import ExchangeRejectionError, forbidden, not_found, unprocessable
from paper_exchange.fills import fill
from paper_exchange.market import build_price_book, build_universe
from paper_exchange.orders import (
    INVALID_PARAM,
    Order,
    OrderRequest,
    parse_order_request,
    parse_replace_request,
    terminal_state,
)
from paper_exchange.portfolio import AccountView, Portfolio, PositionView
from paper_exchange.prices import PriceBook, Quote, round_to_tick
from paper_exchange.state import SavedState, load_state, save_state

Clock = Callable[[], datetime]
ASSET_NAMESPACE = uuid.UUID("6f0f7d2e-8d8a-4a55-9a43-3c7d1f0b9a11")


def asset_id(symbol: str) -> str:
    """Return the stable asset id of a symbol."""
    return str(uuid.uuid5(ASSET_NAMESPACE, symbol))


class PaperEngine:
    """Thread-safe state of the paper exchange."""

    def __init__(
        self, config: ExchangeConfig, clock: Clock, calendar: MarketCalendar | None = None
    ) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.RLock()
        cal = calendar or MarketCalendar()
        real_start = clock()
        session = config.session or cal.session_on_or_before(real_start.astimezone(NEW_YORK).date())
        saved = load_state(config.state_file) if config.state_file is not None else None
        minutes = config.minutes_after_open
        if saved is not None and saved.session == session:
            # The same session again: go on from where the last start stopped, so the
            # restored orders' times stay in the past (clamped before the close as usual).
            into = saved.simulated_at - cal.open_close(session)[0]
            minutes = max(minutes, int(into.total_seconds() // 60) + 1)
        self.session = SessionClock.start(cal, session, minutes, real_start)
        self.prices: PriceBook = build_price_book(config, cal, session, self.session.open_at)
        self.assets: dict[str, AssetSpec] = build_universe(config, self.prices.symbols())
        self._orders: dict[str, Order] = {}
        if saved is None:
            self.portfolio = self._open_account(config)
        else:
            self.portfolio = saved.portfolio
            self._restore(saved, real_start)
        for sym in self.portfolio.holdings:
            if sym not in self.assets:
                raise ValueError(f"position {sym} is not in the asset universe")
        self._last_equity = self.portfolio.cash + sum(
            (h.qty * self.prices.previous_close(s) for s, h in self.portfolio.holdings.items()),
            Decimal(0),
        )
        self._by_client_id: dict[str, str] = {
            o.client_order_id: o.id for o in self._orders.values()
        }
        self._rejected = 0
        self._fill_delay = timedelta(seconds=config.fill_delay_seconds)
        self._halted: frozenset[str] = config.halted
        self._untradable: frozenset[str] = frozenset()
        self._version = self._saved_version = 0
        self.restored = saved is not None  # the account came from the state file, not the seed

    def _open_account(self, config: ExchangeConfig) -> Portfolio:
        for sym in config.account.positions:
            if sym not in self.assets:
                raise ValueError(f"seed position {sym} is not in the asset universe")
        anchors = {sym: self.prices.anchor(sym) for sym in config.account.positions}
        return Portfolio.from_seed(config.account, anchors)

    def _restore(self, saved: SavedState, real_start: datetime) -> None:
        """Take the saved orders back; a day order left open by an earlier session expired."""
        for order in saved.orders:
            if order.is_open and saved.session != self.session.session:
                order.status, order.next_eval_at = "expired", None
            elif order.is_open and order.next_eval_at is not None:
                order.next_eval_at = real_start
            self._orders[order.id] = order

    def checkpoint(self) -> None:
        """Write the account and orders to the state file if anything changed since the last."""
        path = self.config.state_file
        if path is None:
            return
        with self._lock:
            if self._version == self._saved_version:
                return
            orders = tuple(sorted(self._orders.values(), key=lambda o: o.seq))
            state = SavedState(
                session=self.session.session,
                simulated_at=self.session.simulated(self._clock()),
                portfolio=self.portfolio,
                orders=orders,
            )
            save_state(path, state)
            self._saved_version = self._version

    # -- time ---------------------------------------------------------------------------------

    def sim_now(self) -> datetime:
        """Return the simulated time after processing everything due."""
        with self._lock:
            return self.session.simulated(self._sync())

    def _sync(self) -> datetime:
        now = self._clock()
        self.portfolio.settle(now)
        while True:
            due = [o for o in self._orders.values() if o.is_open and o.next_eval_at is not None]
            due = [o for o in due if o.next_eval_at is not None and o.next_eval_at <= now]
            if not due:
                return now
            self._evaluate(min(due, key=lambda o: (o.next_eval_at, o.seq)))

    def quote(self, symbol: str, sim: datetime) -> Quote:
        """Return the quote for a known symbol at a simulated time."""
        return self.prices.quote(symbol, sim, self.session.close_at)

    def set_halted(self, symbols: frozenset[str]) -> None:
        """Halt these symbols (and those of the config); orders of released ones resume."""
        with self._lock:
            now = self._sync()
            halted = self.config.halted | symbols
            released = self._halted - halted
            self._halted = halted
            for order in self._orders.values():
                if order.is_open and order.symbol in released and order.next_eval_at is None:
                    order.next_eval_at = now

    @property
    def halted(self) -> frozenset[str]:
        """Return the symbols halted now."""
        with self._lock:
            return self._halted

    def set_untradable(self, symbols: frozenset[str]) -> None:
        """Mark these symbols not tradable: their asset says so and their orders get a 403."""
        with self._lock:
            self._untradable = symbols

    def asset(self, symbol: str) -> AssetSpec | None:
        """Return a symbol's asset as the venue reports it now (a fault may suspend it)."""
        with self._lock:
            spec = self.assets.get(symbol)
            if spec is not None and symbol in self._untradable:
                return replace(spec, tradable=False)
            return spec

    # -- fills --------------------------------------------------------------------------------

    def _evaluate(self, order: Order) -> None:
        self._version += 1
        due = order.next_eval_at
        assert due is not None
        sim = self.session.simulated(due)
        if not self.session.is_open(sim):
            order.next_eval_at = None  # waits for an open the simulation never reaches
            return
        if order.symbol in self._halted:
            order.next_eval_at = None  # halted: accepted, never filled
            return
        quote = self.quote(order.symbol, sim)
        fill(
            order,
            quote,
            self.portfolio,
            self.config,
            due=due,
            sim=sim,
            minute_start=self.session.open_at,
        )

    # -- submission ---------------------------------------------------------------------------

    def submit_order(self, payload: dict[str, object]) -> Order:
        """Validate and accept a new order, or raise ExchangeRejectionError."""
        with self._lock:
            now = self._sync()
            try:
                request, _ = parse_order_request(payload, self.assets)
                return copy.copy(self._accept(request, now, replaces=None))
            except ExchangeRejectionError:
                self._rejected += 1
                raise

    def _accept(self, req: OrderRequest, now: datetime, replaces: Order | None) -> Order:
        sim = self.session.simulated(now)
        if req.client_order_id is not None and req.client_order_id in self._by_client_id:
            raise unprocessable("client_order_id must be unique", INVALID_PARAM)
        if req.symbol in self._untradable:
            # A trading halt or suspension as Alpaca reports it: refused, never an order.
            raise forbidden(f"asset {req.symbol} is not tradable")
        opposite = "sell" if req.side == "buy" else "buy"
        if any(
            o.is_open and o.symbol == req.symbol and o.side == opposite
            for o in self._orders.values()
        ):
            raise forbidden("potential wash trade detected. use complex orders")
        q = self.quote(req.symbol, sim)
        reserve_price, held_qty = check_funds(req, q, self.portfolio, self._orders.values())
        open_now = self.session.is_open(sim)
        order = Order(
            seq=len(self._orders),
            id=str(uuid.uuid4()),
            client_order_id=req.client_order_id or str(uuid.uuid4()),
            symbol=req.symbol,
            asset_id=asset_id(req.symbol),
            side=req.side,
            kind=req.kind,
            time_in_force=req.time_in_force,
            qty=req.qty,
            notional=req.notional,
            limit_price=req.limit_price,
            extended_hours=req.extended_hours,
            status="new" if open_now else "accepted",
            created_at=sim,
            updated_at=sim,
            submitted_at=sim,
            replaces=replaces.id if replaces else None,
            target_qty=req.qty,
            reserve_price=reserve_price,
            held_qty=held_qty,
            next_eval_at=now + self._fill_delay if open_now else None,
        )
        self._orders[order.id] = order
        self._by_client_id[order.client_order_id] = order.id
        self._version += 1
        return order

    # -- queries ------------------------------------------------------------------------------

    def get_order(self, order_id: str) -> Order:
        """Return an order by id, or 404."""
        with self._lock:
            self._sync()
            return copy.copy(self._find(order_id))

    def _find(self, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise not_found("order not found")
        return order

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """Return an order by client order id, or 404."""
        with self._lock:
            self._sync()
            order_id = self._by_client_id.get(client_order_id)
            if order_id is None:
                raise not_found("order not found")
            return copy.copy(self._orders[order_id])

    def orders(self) -> list[Order]:
        """Return every order ever accepted, oldest first."""
        with self._lock:
            self._sync()
            return [copy.copy(o) for o in sorted(self._orders.values(), key=lambda o: o.seq)]

    @property
    def rejected_count(self) -> int:
        """Return how many order submissions were rejected."""
        with self._lock:
            return self._rejected

    # -- cancel and replace -------------------------------------------------------------------

    def cancel_order(self, order_id: str) -> Order:
        """Cancel an open order, or raise 404/422."""
        with self._lock:
            now = self._sync()
            order = self._find(order_id)
            if not order.is_open:
                raise terminal_state(order)
            self._version += 1
            order.status = "canceled"
            order.canceled_at = order.updated_at = self.session.simulated(now)
            order.next_eval_at = None
            return copy.copy(order)

    def cancel_all(self) -> list[Order]:
        """Cancel every open order and return them."""
        with self._lock:
            self._sync()
            open_ids = [o.id for o in self._orders.values() if o.is_open]
            return [self.cancel_order(order_id) for order_id in open_ids]

    def replace_order(self, order_id: str, payload: dict[str, object]) -> Order:
        """Replace an open order with a new one (new id, ``replaces`` set)."""
        with self._lock:
            now = self._sync()
            old = self._find(order_id)
            if old.status not in ("new", "partially_filled"):
                raise terminal_state(old)
            request = parse_replace_request(payload, old, self.assets[old.symbol])
            previous = (old.status, old.next_eval_at)
            old.status, old.next_eval_at = "replaced", None  # releases its reservation
            try:
                new = self._accept(request, now, replaces=old)
            except ExchangeRejectionError:
                old.status, old.next_eval_at = previous
                raise
            old.replaced_by = new.id
            old.replaced_at = old.updated_at = new.created_at
            return copy.copy(new)

    # -- account ------------------------------------------------------------------------------

    def close_position(self, symbol: str) -> Order:
        """Sell a whole position at market."""
        with self._lock:
            self._sync()
            qty = self.portfolio.qty(symbol.upper())
            if qty == 0:
                raise not_found("position does not exist")
            payload: dict[str, object] = {
                "symbol": symbol.upper(),
                "qty": str(qty),
                "side": "sell",
                "type": "market",
                "time_in_force": "day",
            }
            return self.submit_order(payload)

    def positions(self) -> list[PositionView]:
        """Return all open positions with their marks."""
        with self._lock:
            sim = self.session.simulated(self._sync())
            return [self._position_view(sym, sim) for sym in sorted(self.portfolio.holdings)]

    def position(self, symbol: str) -> PositionView:
        """Return one position, or 404."""
        with self._lock:
            sim = self.session.simulated(self._sync())
            if symbol.upper() not in self.portfolio.holdings:
                raise not_found("position does not exist")
            return self._position_view(symbol.upper(), sim)

    def _position_view(self, symbol: str, sim: datetime) -> PositionView:
        holding = self.portfolio.holdings[symbol]
        return PositionView(
            symbol=symbol,
            exchange=self.assets[symbol].exchange,
            qty=holding.qty,
            qty_available=holding.qty - held_for_orders(self._orders.values(), symbol),
            avg_entry_price=holding.avg_entry_price.quantize(Decimal("0.0001"), ROUND_HALF_UP),
            current_price=round_to_tick(self.quote(symbol, sim).mid),
            lastday_price=self.prices.previous_close(symbol),
        )

    def account(self) -> AccountView:
        """Return the account balances."""
        with self._lock:
            sim = self.session.simulated(self._sync())
            long_value = sum(
                (
                    p.qty * p.current_price
                    for p in map(lambda s: self._position_view(s, sim), self.portfolio.holdings)
                ),
                Decimal(0),
            )
            return AccountView(
                account_type=self.portfolio.account_type,
                cash=self.portfolio.cash,
                unsettled_cash=self.portfolio.unsettled_cash,
                buying_power=buying_power(self.portfolio, self._orders.values()),
                long_market_value=long_value,
                last_equity=self._last_equity,
            )
