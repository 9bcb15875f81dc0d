"""Work a phase's walks concurrently: batched polls and quotes, replaces, final orders, deadline.

Each tick costs one order-list request for the whole phase (ticks back off while nothing
changes: execution/pacing.py), plus one quote request when some
walks are due to step and one when some are due for their final order, plus one request per
order actually placed, replaced or canceled; so a 100-symbol phase polls about as often as a
1-symbol phase. A circuit breaker (execution/breaker.py) checked on every tick stops the phase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NoReturn

import structlog

from alchemiser.domain.errors import (
    CircuitBreakerError,
    DuplicateClientOrderIdError,
    KillSwitchError,
    NotTradableError,
    OrderRejectedError,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, TopOfBook, WalkStop
from alchemiser.execution.adopt import rebuild
from alchemiser.execution.breaker import breaker_reason
from alchemiser.execution.final import final_intent
from alchemiser.execution.hours import PhaseWindow
from alchemiser.execution.orders import cancel, submit_once, wait_for_terminal
from alchemiser.execution.pacing import backed_off, fingerprint, next_pause
from alchemiser.execution.pricing import size_ticks, step_price
from alchemiser.execution.quotes import Quotes
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import CARRIED, Walk
from alchemiser.ports import Broker, Clock

log = structlog.get_logger(__name__)

LIST_WINDOW_SLACK = timedelta(seconds=1)
"""The order list's `after` is exclusive: start a little before the oldest order we watch."""


class PhaseRunner:
    """Run walks until each has an outcome, the phase's hard deadline passes or a breaker trips."""

    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        settings: ExecutionSettings,
        window: PhaseWindow,
        run_id: str,
        *,
        halt: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._settings = settings
        self._window = window
        self._run_id = run_id
        self._halt = halt
        self._quotes = Quotes(broker, clock, window, settings)
        self._rejected = 0
        self.tripped: str | None = None
        """Why the circuit breaker stopped the phase, once it has."""

    def run(self, walks: Sequence[Walk]) -> None:
        """Walk everything to an outcome (call `adopt` first)."""
        pause = self._settings.poll_interval_seconds
        while True:
            reason = self._halt()
            if reason is not None:
                self._stop(walks, reason)
            if self._clock.now() >= self._window.hard_deadline:
                self._abandon(walks)
                return
            before = fingerprint(walks)
            self._start(walks)
            if self._breaker_tripped(walks) or all(w.done for w in walks):
                return
            # Sleep before looking: an order placed a moment ago has nothing to report yet.
            pause = next_pause(walks, pause, self._clock.now(), self._window, self._settings)
            self._clock.sleep(pause)
            self._poll(walks)
            now = self._clock.now()
            finals = [
                w for w in walks if not w.done and w.live is not None and self._advance(w, now)
            ]
            self._finals(finals, now)
            self._step(walks, now)
            if self._breaker_tripped(walks) or all(w.done for w in walks):
                return
            quiet = fingerprint(walks) == before
            pause = (
                backed_off(pause, self._settings) if quiet else self._settings.poll_interval_seconds
            )

    def raise_if_tripped(self, phase: str) -> None:
        """Raise CircuitBreakerError when the breaker stopped the phase (after its artifact)."""
        if self.tripped is not None:
            raise CircuitBreakerError(
                f"{phase}: circuit breaker: {self.tripped}; this run's open orders of the phase "
                "canceled, nothing more placed"
            )

    def halt_if_asked(self, walks: Sequence[Walk]) -> None:
        """Stop before placing anything when asked to, canceling orders adopted from a try."""
        reason = self._halt()
        if reason is not None:
            self._stop(walks, reason)

    def adopt(self, walks: Sequence[Walk]) -> None:
        """Rebuild walks from the orders an earlier try of this task placed (one list call)."""
        ids = [cid for w in walks for cid in w.ids]
        since = self._window.broker_now - timedelta(hours=self._settings.adoption_lookback_hours)
        found = self._broker.find_orders(ids, since) if ids else {}
        for walk in rebuild(walks, found, self._settings, self._clock.now()):
            live = walk.live
            assert live is not None
            log.info("walk adopted", run_id=self._run_id, client_order_id=live.client_order_id)

    def _start(self, walks: Sequence[Walk]) -> None:
        working = sum(1 for w in walks if not w.done and w.live is not None)
        slots = self._settings.max_concurrent_orders - working
        todo = [w for w in walks if not w.done and w.live is None][: max(0, slots)]
        if not todo:
            return
        books = self._quotes.books([w.symbol for w in todo], retry=True)
        now = self._clock.now()
        for walk in todo:
            book = books.get(walk.symbol)
            problem = self._quotes.problem(book, now)
            if problem is not None or book is None:
                # Never traded on a bad price, never the reason the others are not: held.
                walk.hold(
                    f"{walk.symbol}: held, quote still unusable after "
                    f"{self._settings.quote_refetches} re-fetches: {problem}"
                )
                log.warning("walk held", run_id=self._run_id, symbol=walk.symbol, reason=problem)
                continue
            moved = self._quotes.moved(walk, book)
            if moved is not None:
                walk.finish(f"{moved}; nothing placed, {CARRIED}", "price_moved")
                log.warning("walk refused", run_id=self._run_id, symbol=walk.symbol, reason=moved)
                continue
            walk.arrival_mid = book.quote.mid
            walk.extra_ticks = size_ticks(
                walk.target_qty, int(book.far_size(walk.side)), self._settings
            )
            price = step_price(book.quote, walk.side, 0, walk.extra_ticks, self._settings)
            intent = OrderIntent(
                client_order_id=walk.ids[0],
                run_id=self._run_id,
                symbol=walk.symbol,
                side=walk.side,
                order_type="limit",
                qty=walk.remaining_qty,
                limit_price=price,
            )
            if self._place(walk, intent, final=False):
                walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)

    def _place(self, walk: Walk, intent: OrderIntent, *, final: bool) -> bool:
        """Submit a walk's order; a refusal ends the walk (held when not tradable) and is False."""
        cid = intent.client_order_id
        try:
            walk.record(submit_once(self._broker, intent, looked_up=True))
        except NotTradableError as exc:
            # The broker will not trade the symbol now: kept as it is, the phase goes on.
            walk.hold(f"{walk.symbol} ({cid}): held, {exc}")
            log.warning(
                "walk held: not tradable", run_id=self._run_id, client_order_id=cid, reason=str(exc)
            )
            return False
        except OrderRejectedError as exc:
            if final:
                walk.finish(f"final order {cid} rejected: {exc}")
            else:
                walk.reject(f"{walk.symbol} ({cid}): {exc}")
            self._rejected += 1
            log.error(
                "order rejected",
                run_id=self._run_id,
                client_order_id=cid,
                reason=str(exc),
                rejected=self._rejected,
            )
            return False
        return True

    def _poll(self, walks: Sequence[Walk]) -> None:
        watched = [o for w in walks for o in w.orders.values() if not o.is_terminal]
        if not watched:
            return
        stamps = [o.submitted_at for o in watched]
        since = min(s for s in stamps if s is not None) - LIST_WINDOW_SLACK if all(stamps) else None
        self._record(walks, self._broker.get_orders([o.client_order_id for o in watched], since))

    @staticmethod
    def _record(walks: Sequence[Walk], orders: Sequence[OrderResult]) -> None:
        """Give each walk the latest state of its orders."""
        by_id = {o.client_order_id: o for o in orders}
        for walk in walks:
            for order in list(walk.orders.values()):
                if order.client_order_id in by_id:
                    walk.record(by_id[order.client_order_id])

    def _advance(self, walk: Walk, now: datetime) -> bool:
        """Move one walk on; return True when it is ready for its final order."""
        live = walk.live
        assert live is not None
        if live.is_terminal:
            return walk.after_terminal(live)
        if walk.stopping is not None or walk.going_final:
            return False  # a cancel is on its way; the hard deadline bounds it
        if walk.complete:
            # Only dust is left open: not worth an order, nor waiting for.
            self._stop_walk(walk, live, None, "only dust left")
            return False
        if walk.at_final:
            due = walk.final_deadline is not None and now >= walk.final_deadline
            if live.limit_price is not None and due:
                self._stop_walk(
                    walk,
                    live,
                    "collar",
                    f"final limit {live.limit_price} (collar "
                    f"{self._settings.collar_bps_for(walk.symbol)} bps through the far touch) "
                    f"left {walk.remaining_qty} unfilled after "
                    f"{self._settings.market_fill_seconds:.0f} s; {CARRIED}",
                )
            return False
        last_level = walk.level >= self._settings.limit_steps - 1
        step_due = walk.next_step_at is not None and now >= walk.next_step_at
        if now >= self._window.walk_deadline or (last_level and step_due):
            self._cancel(live, "to send the final order")
            walk.going_final = True
        return False

    def _finals(self, walks: list[Walk], now: datetime) -> None:
        """Send each walk's final order, priced from one batched fresh quote."""
        if not walks:
            return
        books = self._quotes.books([w.symbol for w in walks], retry=False)
        for walk in walks:
            book = books.get(walk.symbol)
            if self._quotes.problem(book, now) is not None or book is None:
                # Never price a final order off a bad book: look again next tick (the hard
                # deadline bounds the wait).
                log.warning(
                    "final order held: quote refused", run_id=self._run_id, symbol=walk.symbol
                )
                continue
            moved = self._quotes.moved(walk, book)
            if moved is not None:
                walk.finish(
                    f"{moved}; {walk.remaining_qty} left unfilled, {CARRIED}", "price_moved"
                )
                continue
            self._final(walk, book, now)

    def _final(self, walk: Walk, book: TopOfBook, now: datetime) -> None:
        walk.going_final = False
        if walk.step + 1 >= len(walk.ids):
            walk.finish("no order ids left for the final order")
            return
        intent = final_intent(
            walk, walk.ids[walk.step + 1], book.quote, self._settings, self._run_id
        )
        if not self._place(walk, intent, final=True):
            return
        walk.final_index = walk.step
        walk.final_deadline = min(
            now + timedelta(seconds=self._settings.market_fill_seconds),
            self._window.hard_deadline,
        )
        log.info(
            "final order sent",
            run_id=self._run_id,
            client_order_id=intent.client_order_id,
            limit_price=str(intent.limit_price) if intent.limit_price else "market",
        )

    def _cancel(self, live: OrderResult, why: str) -> None:
        if cancel(self._broker, live, self._run_id):
            log.info(
                "order canceled", run_id=self._run_id, client_order_id=live.client_order_id, why=why
            )

    def _cancel_working(self, walks: Sequence[Walk], why: str) -> None:
        for walk in walks:
            live = walk.live
            if live is not None and not live.is_terminal:
                self._cancel(live, why)

    def _stop_walk(
        self, walk: Walk, live: OrderResult, kind: WalkStop | None, message: str
    ) -> None:
        """Cancel the walk's order; once it is terminal the walk ends with `message`."""
        walk.stopping = (kind, message)
        self._cancel(live, message)

    def _step(self, walks: Sequence[Walk], now: datetime) -> None:
        if now >= self._window.walk_deadline:
            return
        due = [w for w in walks if w.step_due(now, self._settings.limit_steps)]
        if not due:
            return
        books = self._quotes.books([w.symbol for w in due], retry=False)
        for walk in due:
            book = books.get(walk.symbol)
            if self._quotes.problem(book, now) is not None or book is None:
                # Hold the resting price rather than step into a bad book; try next interval.
                log.warning("step skipped: quote refused", run_id=self._run_id, symbol=walk.symbol)
                walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)
                continue
            moved = self._quotes.moved(walk, book)
            live = walk.live
            if moved is not None and live is not None:
                self._stop_walk(walk, live, "price_moved", f"{moved}; {CARRIED}")
                continue
            self._replace(walk, book, now)

    def _replace(self, walk: Walk, book: TopOfBook, now: datetime) -> None:
        live = walk.live
        assert live is not None
        level = walk.level + 1
        price = step_price(book.quote, walk.side, level, walk.extra_ticks, self._settings)
        walk.level = level
        walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)
        # The last id is kept for the final order.
        if price == live.limit_price or walk.step + 2 >= len(walk.ids):
            return  # same price on tick: a replace would cost a request and change nothing
        new_id = walk.ids[walk.step + 1]
        try:
            replacement = self._broker.replace_order(live.broker_order_id, new_id, price)
        except OrderRejectedError as exc:
            duplicate = isinstance(exc, DuplicateClientOrderIdError)
            adopted = self._broker.get_order_by_client_id(new_id) if duplicate else None
            if adopted is None:
                # Not replaceable right now (filling, pending): retry at the next tick.
                walk.level -= 1
                walk.next_step_at = now
                log.info(
                    "replace refused",
                    run_id=self._run_id,
                    client_order_id=live.client_order_id,
                    reason=str(exc),
                )
                return
            replacement = adopted
        walk.record(replacement)
        log.info(
            "order replaced",
            run_id=self._run_id,
            client_order_id=new_id,
            replaces=live.client_order_id,
            limit_price=str(price),
        )

    def _stop(self, walks: Sequence[Walk], reason: str) -> NoReturn:
        """Cancel this run's open orders (never anyone else's) and stop the phase."""
        self._cancel_working(walks, reason)
        log.error("phase halted", run_id=self._run_id, reason=reason)
        raise KillSwitchError(f"{reason}: no further orders placed, open orders canceled")

    def _abandon(self, walks: Sequence[Walk]) -> None:
        open_walks = [w for w in walks if not w.done]
        self._cancel_working(open_walks, "phase deadline")
        # A cancel can be pending while the order fills (Alpaca's pending_cancel): wait, bounded,
        # until every order is final, so the walks report the fills the positions check sees.
        working = [
            o.client_order_id for w in open_walks for o in w.orders.values() if not o.is_terminal
        ]
        if working:
            wait = self._settings.deadline_cancel_wait_seconds
            final = wait_for_terminal(
                self._broker, working, self._clock, wait, self._settings.poll_interval_seconds
            )
            self._record(open_walks, final)
        for walk in open_walks:
            walk.finish_at_deadline()

    def _breaker_tripped(self, walks: Sequence[Walk]) -> bool:
        """Stop the phase when it went over a budget: cancel its open orders, end its walks."""
        reason = breaker_reason(walks, self._rejected, self._settings)
        if reason is None:
            return False
        self.tripped = reason
        log.error("circuit breaker tripped", run_id=self._run_id, reason=reason)
        open_walks = [w for w in walks if not w.done]
        self._cancel_working(open_walks, f"circuit breaker: {reason}")
        self._poll(open_walks)
        for walk in open_walks:
            walk.finish(f"circuit breaker: {reason}; {CARRIED}", "circuit_breaker")
        return True
