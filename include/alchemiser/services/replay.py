"""Replay a past session: plan against the simulated book, fill at the close, carry the book.

A run whose session is not the broker's current one (a backfill, a catch-up, a manual run for a
past date) comes here and never reaches an order endpoint: the broker is asked only for asset
facts, and prices are the session's daily closes, point in time. Books are kept per session under
`replay/books/<session>.json`, so replaying sessions in order builds an equity curve. The book
becomes a snapshot and fills are simulated by the same functions the backtest steps through
(alchemiser.replay.step), so a backfilled session and a backtested one trade alike.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import structlog
from pydantic import Field

from alchemiser.calendars.trading import calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import MarketDataError
from alchemiser.domain.keys import BOOKS_PREFIX, EQUITY_CURVE, book_key
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.portfolio import PortfolioSnapshot
from alchemiser.domain.replay import EquityCurve, EquityPoint, ReplayBook, ReplayResult
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import Frozen, NonNegativeMoney
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters, MarketData, ObjectStore
from alchemiser.replay.simulate import simulate_fills
from alchemiser.replay.step import book_snapshot
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext

log = structlog.get_logger(__name__)

_BAR_LOOKBACK = timedelta(days=10)


class ReplaySettings(Frozen):
    """Where a replay starts when no earlier session has been replayed."""

    initial_cash: NonNegativeMoney = Field(default=Decimal(100_000))


def prior_book(store: ObjectStore, run: RunContext, settings: ReplaySettings) -> ReplayBook:
    """Return the latest book before the run's session, or a fresh all-cash book."""
    earlier = [k for k in store.list_keys(BOOKS_PREFIX) if k < book_key(run.session)]
    if earlier:
        return ReplayBook.model_validate_json(store.get(earlier[-1]))
    return ReplayBook(
        run_id=run.run_id,
        derived_from=("replay:initial",),
        session=run.session,
        cash=settings.initial_cash,
        holdings=(),
    )


def closing_prices(market_data: MarketData, symbols: set[str], session: date) -> dict[str, Decimal]:
    """Return each symbol's close on `session`; a missing bar is an error naming it."""
    bars = market_data.get_daily_bars(sorted(symbols), session - _BAR_LOOKBACK, session)
    closes = {}
    for symbol in sorted(symbols):
        last = bars.get(symbol, ())[-1:] or None
        if last is None or last[0].session != session:
            raise MarketDataError(f"{symbol}: no daily bar for {session}; cannot replay it")
        closes[symbol] = last[0].close
    return closes


def plan_replay(
    run: RunContext,
    targets: TargetAllocation,
    adapters: Adapters,
    settings: PlanSettings,
    replay: ReplaySettings,
) -> tuple[RebalancePlan, PortfolioSnapshot]:
    """Plan the session's trades against the simulated book, priced at the close."""
    book = prior_book(adapters.store, run, replay)
    symbols = set(targets.symbols) | {h.symbol for h in book.holdings}
    closes = closing_prices(adapters.market_data, symbols, run.session)
    assets = adapters.broker.get_assets(sorted(symbols))
    snapshot = book_snapshot(book, closes, assets, _session_close(run.session), run.run_id)
    return build_plan(targets, snapshot, settings), snapshot


def replay_session(
    run: RunContext, plan_ref: ArtifactRef, adapters: Adapters, replay: ReplaySettings
) -> ArtifactRef:
    """Fill the plan at the close, store the result and the new book, refresh the equity curve."""
    store = adapters.store
    plan = load(store, plan_ref, RebalancePlan)
    book = prior_book(store, run, replay)
    symbols = {i.symbol for i in plan.items} | {h.symbol for h in book.holdings}
    closes = closing_prices(adapters.market_data, symbols, run.session)
    fills, after = simulate_fills(plan, book, closes, run.session, run.run_id)
    result = ReplayResult(
        run_id=run.run_id,
        derived_from=(plan.artifact_id, book.artifact_id),
        session=run.session,
        before=book,
        fills=fills,
        after=after,
    )
    summary = f"{len(fills)} simulated fills, book {after.value:.2f}"
    ref = save(store, run.prefix, "replay", result, summary)
    store.put(book_key(run.session), after.model_dump_json(indent=2).encode())
    _write_equity_curve(store)
    log.info("session replayed", run_id=run.run_id, session=str(run.session), fills=len(fills))
    return ref


def equity_curve(store: ObjectStore) -> tuple[EquityPoint, ...]:
    """Return the value of every replayed book, by session."""
    books = (ReplayBook.model_validate_json(store.get(k)) for k in store.list_keys(BOOKS_PREFIX))
    return tuple(EquityPoint(session=b.session, value=b.value) for b in books)


def _write_equity_curve(store: ObjectStore) -> None:
    curve = EquityCurve(points=equity_curve(store))
    store.put(EQUITY_CURVE, curve.model_dump_json(indent=2).encode())


def _session_close(session: date) -> datetime:
    found = calendar().session(session)
    if found is None:
        raise MarketDataError(f"{session} is not a trading session; nothing to replay")
    return found.close
