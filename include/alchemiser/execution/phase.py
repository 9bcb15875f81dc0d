"""Work a phase's walks concurrently: batched polls, batched quotes, replaces, market, deadline.

Each tick costs one order-list request for the whole phase, plus one quote request when some
walks are due to step, plus one request per order actually placed, replaced or canceled; so a
100-symbol phase polls about as often as a 1-symbol phase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NoReturn

import structlog

from alchemiser.domain.errors import KillSwitchError, NotTradableError, OrderRejectedError
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus, TopOfBook
from alchemiser.execution.hours import PhaseWindow
from alchemiser.execution.orders import DUPLICATE_CLIENT_ORDER_ID, submit_once
from alchemiser.execution.pricing import size_ticks, step_price, suspicious
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk
from alchemiser.ports import Broker, Clock

log = structlog.get_logger(__name__)

LIST_WINDOW_SLACK = timedelta(seconds=1)
"""The order list's `after` is exclusive: start a little before the oldest order we watch."""


class PhaseRunner:
    """Run walks until each has an outcome or the phase's hard deadline passes."""

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

    def run(self, walks: Sequence[Walk]) -> None:
        """Walk everything to an outcome (call `adopt` first)."""
        while True:
            reason = self._halt()
            if reason is not None:
                self._stop(walks, reason)
            if self._clock.now() >= self._window.hard_deadline:
                self._abandon(walks)
                return
            self._start(walks)
            if all(w.done for w in walks):
                return
            # Sleep before looking: an order placed a moment ago has nothing to report yet.
            self._clock.sleep(self._settings.poll_interval_seconds)
            self._poll(walks)
            now = self._clock.now()
            for walk in walks:
                if not walk.done and walk.live is not None:
                    self._advance(walk, now)
            self._step(walks, now)
            if all(w.done for w in walks):
                return

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
        for walk in walks:
            for cid in walk.ids:
                if cid in found:
                    walk.record(found[cid])
            live = walk.live
            if live is None:
                continue
            log.info("walk adopted", run_id=self._run_id, client_order_id=live.client_order_id)
            first = walk.orders[min(walk.orders)]
            if first.qty is not None:
                walk.target_qty = first.qty  # what the earlier try sized, not a re-sizing now
            walk.next_step_at = self._clock.now()
            # Only we cancel our orders, to go to market or at a deadline: either way a canceled
            # order with shares left resumes as a market order under the next id.
            walk.going_to_market = live.status is OrderStatus.CANCELED

    def _start(self, walks: Sequence[Walk]) -> None:
        working = sum(1 for w in walks if not w.done and w.live is not None)
        slots = self._settings.max_concurrent_orders - working
        todo = [w for w in walks if not w.done and w.live is None][: max(0, slots)]
        if not todo:
            return
        books = self._books([w.symbol for w in todo], retry=True)
        now = self._clock.now()
        broker_now = self._window.broker_time(now)
        for walk in todo:
            book = books.get(walk.symbol)
            problem = (
                "no usable quote"
                if book is None
                else suspicious(book.quote, self._settings, broker_now)
            )
            if problem is not None or book is None:
                # Never traded on a bad price, never the reason the others are not: held.
                walk.hold(
                    f"{walk.symbol}: held, quote still unusable after "
                    f"{self._settings.quote_refetches} re-fetches: {problem}"
                )
                log.warning("walk held", run_id=self._run_id, symbol=walk.symbol, reason=problem)
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
            try:
                walk.record(submit_once(self._broker, intent, looked_up=True))
            except NotTradableError as exc:
                self._hold(walk, intent.client_order_id, exc)
                continue
            except OrderRejectedError as exc:
                walk.reject(f"{walk.symbol} ({intent.client_order_id}): {exc}")
                log.error(
                    "order rejected",
                    run_id=self._run_id,
                    client_order_id=intent.client_order_id,
                    reason=str(exc),
                )
                continue
            walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)

    def _hold(self, walk: Walk, client_order_id: str, exc: NotTradableError) -> None:
        """End a walk the broker will not trade: kept as it is, the phase goes on."""
        walk.hold(f"{walk.symbol} ({client_order_id}): held, {exc}")
        log.warning(
            "walk held: not tradable",
            run_id=self._run_id,
            client_order_id=client_order_id,
            reason=str(exc),
        )

    def _books(self, symbols: list[str], *, retry: bool) -> dict[str, TopOfBook]:
        books = self._broker.get_top_of_book(symbols)
        wait = self._settings.quote_retry_seconds
        for _ in range(self._settings.quote_refetches if retry else 0):
            at = self._window.broker_time(self._clock.now())
            bad = [
                s
                for s in symbols
                if s not in books or suspicious(books[s].quote, self._settings, at)
            ]
            if not bad:
                break
            # A bad print is often gone a moment later: look again, waiting longer each time.
            self._clock.sleep(wait)
            wait *= 2
            books.update(self._broker.get_top_of_book(bad))
        return books

    def _poll(self, walks: Sequence[Walk]) -> None:
        watched = [o for w in walks for o in w.orders.values() if not o.is_terminal]
        if not watched:
            return
        stamps = [o.submitted_at for o in watched]
        since = min(s for s in stamps if s is not None) - LIST_WINDOW_SLACK if all(stamps) else None
        by_id = {
            o.client_order_id: o
            for o in self._broker.get_orders([o.client_order_id for o in watched], since)
        }
        for walk in walks:
            for order in list(walk.orders.values()):
                if order.client_order_id in by_id:
                    walk.record(by_id[order.client_order_id])

    def _advance(self, walk: Walk, now: datetime) -> None:
        live = walk.live
        assert live is not None
        if live.is_terminal:
            self._after_terminal(walk, live)
            return
        if walk.going_to_market or live.limit_price is None:
            return  # a cancel or a market order is on its way; the hard deadline bounds it
        last_level = walk.level >= self._settings.limit_steps - 1
        step_due = walk.next_step_at is not None and now >= walk.next_step_at
        if now >= self._window.walk_deadline or (last_level and step_due):
            self._cancel(walk, live, "to send the remainder at market")
            walk.going_to_market = True

    def _after_terminal(self, walk: Walk, live: OrderResult) -> None:
        if walk.unsettled_ids:
            return  # a replaced step's final fills are not in yet
        if walk.remaining_qty == 0:
            walk.finish()
            return
        if walk.going_to_market and live.status is OrderStatus.CANCELED:
            self._market(walk)
            return
        walk.finish(f"{live.client_order_id} ended {live.status.value} with shares left")

    def _market(self, walk: Walk) -> None:
        walk.going_to_market = False
        if walk.step + 1 >= len(walk.ids):
            walk.finish("no order ids left for a market order")
            return
        intent = OrderIntent(
            client_order_id=walk.ids[walk.step + 1],
            run_id=self._run_id,
            symbol=walk.symbol,
            side=walk.side,
            qty=walk.remaining_qty,
        )
        try:
            walk.record(submit_once(self._broker, intent, looked_up=True))
        except NotTradableError as exc:
            self._hold(walk, intent.client_order_id, exc)
        except OrderRejectedError as exc:
            walk.finish(f"market order {intent.client_order_id} rejected: {exc}")
            log.error(
                "order rejected",
                run_id=self._run_id,
                client_order_id=intent.client_order_id,
                reason=str(exc),
            )

    def _cancel(self, walk: Walk, live: OrderResult, why: str) -> None:
        try:
            self._broker.cancel_order(live.broker_order_id)
        except OrderRejectedError as exc:
            # Typically it filled or was already canceled; the next poll says which.
            log.info(
                "cancel refused",
                run_id=self._run_id,
                client_order_id=live.client_order_id,
                reason=str(exc),
            )
            return
        log.info(
            "order canceled", run_id=self._run_id, client_order_id=live.client_order_id, why=why
        )

    def _step(self, walks: Sequence[Walk], now: datetime) -> None:
        if now >= self._window.walk_deadline:
            return
        due = [
            w
            for w in walks
            if not w.done
            and not w.going_to_market
            and (live := w.live) is not None
            and not live.is_terminal
            and live.limit_price is not None
            and w.level < self._settings.limit_steps - 1
            and w.next_step_at is not None
            and now >= w.next_step_at
        ]
        if not due:
            return
        books = self._books([w.symbol for w in due], retry=False)
        for walk in due:
            book = books.get(walk.symbol)
            if book is None or suspicious(
                book.quote, self._settings, self._window.broker_time(now)
            ):
                # Hold the resting price rather than step into a bad book; try next interval.
                log.warning("step skipped: quote refused", run_id=self._run_id, symbol=walk.symbol)
                walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)
                continue
            self._replace(walk, book, now)

    def _replace(self, walk: Walk, book: TopOfBook, now: datetime) -> None:
        live = walk.live
        assert live is not None
        level = walk.level + 1
        price = step_price(book.quote, walk.side, level, walk.extra_ticks, self._settings)
        walk.level = level
        walk.next_step_at = now + timedelta(seconds=self._settings.step_interval_seconds)
        if price == live.limit_price or walk.step + 1 >= len(walk.ids):
            return  # same price on tick: a replace would cost a request and change nothing
        new_id = walk.ids[walk.step + 1]
        try:
            replacement = self._broker.replace_order(live.broker_order_id, new_id, price)
        except OrderRejectedError as exc:
            adopted = (
                self._broker.get_order_by_client_id(new_id)
                if exc.code == DUPLICATE_CLIENT_ORDER_ID
                else None
            )
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
        for walk in walks:
            live = walk.live
            if live is not None and not live.is_terminal:
                self._cancel(walk, live, reason)
        log.error("phase halted", run_id=self._run_id, reason=reason)
        raise KillSwitchError(f"{reason}: no further orders placed, open orders canceled")

    def _abandon(self, walks: Sequence[Walk]) -> None:
        open_walks = [w for w in walks if not w.done]
        for walk in open_walks:
            live = walk.live
            if live is not None and not live.is_terminal:
                self._cancel(walk, live, "phase deadline")
        self._poll(open_walks)
        for walk in open_walks:
            walk.finish("phase deadline passed: open orders canceled")
