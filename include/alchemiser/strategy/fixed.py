"""Fixed-weight strategies: the same weights every session."""

from __future__ import annotations

from alchemiser.domain.allocation import StrategyContribution, weights_from_mapping
from alchemiser.strategy.portfolio_config import FixedWeightStrategy


def evaluate_fixed(strategy: FixedWeightStrategy) -> StrategyContribution:
    """Return the strategy's constant weights as its contribution."""
    return StrategyContribution(
        strategy=strategy.name,
        allocation=strategy.allocation,
        weights=weights_from_mapping(strategy.weights),
    )
