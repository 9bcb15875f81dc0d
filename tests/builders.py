"""Builders for valid DTOs, so each test states only what it varies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from alchemiser.domain.allocation import (
    StrategyContribution,
    TargetAllocation,
    weights_from_mapping,
)
from alchemiser.domain.market import AssetInfo, Quote
from alchemiser.domain.portfolio import Holding, PortfolioSnapshot
from tests.fakes import T0

SESSION = date(2026, 11, 20)


def D(value: str | int | Decimal) -> Decimal:
    """Return a Decimal from a literal."""
    return Decimal(str(value))


def targets(weights: Mapping[str, str], run_id: str = "run-1") -> TargetAllocation:
    """Return a one-strategy allocation with the given weights."""
    ws = weights_from_mapping({s: D(w) for s, w in weights.items()})
    return TargetAllocation(
        run_id=run_id,
        as_of=SESSION,
        weights=ws,
        contributions=(StrategyContribution(strategy="s", allocation=D(1), weights=ws),),
    )


def snapshot(
    cash: str,
    holdings: Mapping[str, tuple[str, str]],
    quotes: Mapping[str, str],
    non_fractionable: frozenset[str] = frozenset(),
    half_spread: str = "0.01",
    untradable: frozenset[str] = frozenset(),
    unquoted: frozenset[str] = frozenset(),
) -> PortfolioSnapshot:
    """Return a snapshot: holdings {symbol: (qty, price)}, quotes {symbol: mid}.

    `unquoted` symbols are known to the broker (an asset record) but have no usable quote.
    """
    return PortfolioSnapshot(
        run_id="run-1",
        taken_at=T0,
        account_id="acct-1",
        cash=D(cash),
        buying_power=max(D(0), D(cash)),
        non_marginable_buying_power=max(D(0), D(cash)),
        holdings=tuple(
            Holding(symbol=s, qty=D(q), price=D(p)) for s, (q, p) in sorted(holdings.items())
        ),
        quotes=tuple(
            Quote(symbol=s, bid=D(m) - D(half_spread), ask=D(m) + D(half_spread), timestamp=T0)
            for s, m in sorted(quotes.items())
        ),
        assets=tuple(
            AssetInfo(
                symbol=s, tradable=s not in untradable, fractionable=s not in non_fractionable
            )
            for s in sorted(set(quotes) | unquoted)
        ),
    )
