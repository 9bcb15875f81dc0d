"""Read the account, positions, assets and quotes into one PortfolioSnapshot.

A missing, zero, crossed or stale quote is often gone a moment later: those symbols are asked
for again a few times with a short doubling wait (`PlanSettings.quote_refetches`, from
`quote_refetch_seconds`); a symbol still without a usable quote is left out of the quotes, and
the planner holds it as it is for the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import structlog

from alchemiser.domain.market import Quote
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.portfolio import Holding, PortfolioSnapshot
from alchemiser.ports import Adapters

log = structlog.get_logger(__name__)


def take_snapshot(
    run_id: str,
    adapters: Adapters,
    also_quote: Iterable[str] = (),
    settings: PlanSettings | None = None,
) -> PortfolioSnapshot:
    """Return the account now, valuing holdings at quote mids (the prices the plan uses).

    A held symbol without a usable quote is valued at the broker's mark of the position.
    """
    settings = settings or PlanSettings()
    broker = adapters.broker
    taken_at = adapters.clock.now()
    account = broker.get_account()
    positions = broker.get_positions()
    symbols = sorted({p.symbol for p in positions} | set(also_quote))
    assets = broker.get_assets(symbols)
    quotes = _usable_quotes(run_id, adapters, symbols, settings)
    holdings = [
        Holding(
            symbol=p.symbol,
            qty=p.qty,
            price=quotes[p.symbol].mid if p.symbol in quotes else p.current_price,
        )
        for p in positions
    ]
    return PortfolioSnapshot(
        run_id=run_id,
        derived_from=(f"broker:{broker.venue}",),
        taken_at=taken_at,
        account_id=account.account_id,
        cash=account.cash,
        buying_power=account.buying_power,
        non_marginable_buying_power=account.non_marginable_buying_power,
        holdings=tuple(holdings),
        quotes=tuple(quotes[s] for s in symbols if s in quotes),
        assets=assets,
    )


def _usable_quotes(
    run_id: str, adapters: Adapters, symbols: list[str], settings: PlanSettings
) -> dict[str, Quote]:
    quotes = adapters.market_data.get_latest_quotes(symbols)
    wait = settings.quote_refetch_seconds
    for attempt in range(settings.quote_refetches):
        bad = _unusable(symbols, quotes, settings)
        if not bad:
            break
        log.info("quotes re-fetched", run_id=run_id, symbols=bad, attempt=attempt + 1, wait=wait)
        adapters.clock.sleep(wait)
        wait *= 2
        quotes.update(adapters.market_data.get_latest_quotes(bad))
    left = _unusable(symbols, quotes, settings)
    if left:
        log.warning("quotes still unusable: held this session", run_id=run_id, symbols=left)
    return quotes


def _unusable(symbols: list[str], quotes: dict[str, Quote], settings: PlanSettings) -> list[str]:
    if not quotes:
        return list(symbols)
    newest = max(q.timestamp for q in quotes.values())
    limit = timedelta(seconds=settings.max_quote_age_seconds)
    return [s for s in symbols if s not in quotes or newest - quotes[s].timestamp > limit]
