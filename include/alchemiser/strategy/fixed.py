"""Evaluate strategies and merge them into one target allocation."""

from __future__ import annotations

from datetime import date

from alchemiser.domain.allocation import (
    StrategyContribution,
    TargetAllocation,
    merge_contributions,
    weights_from_mapping,
)
from alchemiser.strategy.portfolio_config import FixedWeightStrategy, PortfolioConfig


def evaluate_fixed(strategy: FixedWeightStrategy) -> StrategyContribution:
    """Return the strategy's constant weights as its contribution."""
    return StrategyContribution(
        strategy=strategy.name,
        allocation=strategy.allocation,
        weights=weights_from_mapping(strategy.weights),
    )


def allocate(config: PortfolioConfig, as_of: date, run_id: str, source: str) -> TargetAllocation:
    """Evaluate every strategy of `config` as of a session and merge them by allocation."""
    contributions = tuple(evaluate_fixed(s) for s in config.strategies)
    return TargetAllocation(
        run_id=run_id,
        derived_from=(source,),
        as_of=as_of,
        weights=merge_contributions(contributions),
        contributions=contributions,
    )
