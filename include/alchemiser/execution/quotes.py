"""The quotes a phase trades on: one request for many symbols, looked at again while bad, judged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alchemiser.domain.orders import TopOfBook
from alchemiser.execution.hours import PhaseWindow
from alchemiser.execution.pricing import price_moved, suspicious
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.walk import Walk
from alchemiser.ports import Broker, Clock


@dataclass(frozen=True)
class Quotes:
    """Top of book for a phase's walks, at the broker's time."""

    broker: Broker
    clock: Clock
    window: PhaseWindow
    settings: ExecutionSettings

    def books(self, symbols: list[str], *, retry: bool) -> dict[str, TopOfBook]:
        """Return each symbol's book; with `retry`, re-fetch the bad ones with a backoff."""
        books = self.broker.get_top_of_book(symbols)
        wait = self.settings.quote_retry_seconds
        for _ in range(self.settings.quote_refetches if retry else 0):
            now = self.clock.now()
            bad = [s for s in symbols if self.problem(books.get(s), now) is not None]
            if not bad:
                break
            # A bad print is often gone a moment later: look again, waiting longer each time.
            self.clock.sleep(wait)
            wait *= 2
            books.update(self.broker.get_top_of_book(bad))
        return books

    def problem(self, book: TopOfBook | None, now: datetime) -> str | None:
        """Return why a book must not be traded on at `now` (missing, stale, wide...), or None."""
        if book is None:
            return "no usable quote"
        return suspicious(book.quote, self.settings, self.window.broker_time(now))

    def moved(self, walk: Walk, book: TopOfBook) -> str | None:
        """Return how far the price ran from the plan's, when too far to trade, or None."""
        if walk.plan_price is None:
            return None
        moved = price_moved(walk.plan_price, book.quote, self.settings.max_price_move_fraction)
        return f"{walk.symbol}: {moved}" if moved is not None else None
