"""Read the account, positions, assets and quotes into one PortfolioSnapshot."""

from __future__ import annotations

from collections.abc import Iterable

from alchemiser.domain.errors import BrokerError
from alchemiser.domain.portfolio import Holding, PortfolioSnapshot
from alchemiser.ports import Adapters


def take_snapshot(
    run_id: str,
    adapters: Adapters,
    also_quote: Iterable[str] = (),
) -> PortfolioSnapshot:
    """Return the account now, valuing holdings at quote mids (the prices the plan uses)."""
    broker, market_data = adapters.broker, adapters.market_data
    taken_at = adapters.clock.now()
    account = broker.get_account()
    positions = broker.get_positions()
    symbols = sorted({p.symbol for p in positions} | set(also_quote))
    assets = broker.get_assets(symbols)
    quotes = market_data.get_latest_quotes(symbols)
    holdings = []
    for position in positions:
        quote = quotes.get(position.symbol)
        if quote is None:
            raise BrokerError(f"{position.symbol}: held but no quote was returned")
        holdings.append(Holding(symbol=position.symbol, qty=position.qty, price=quote.mid))
    return PortfolioSnapshot(
        run_id=run_id,
        derived_from=(f"broker:{broker.venue}",),
        taken_at=taken_at,
        account_id=account.account_id,
        cash=account.cash,
        buying_power=account.buying_power,
        non_marginable_buying_power=account.non_marginable_buying_power,
        holdings=tuple(holdings),
        quotes=tuple(quotes[s] for s in symbols),
        assets=assets,
    )
