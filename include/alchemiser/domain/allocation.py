"""What the strategies want: target weights per symbol, with each strategy's contribution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from alchemiser.domain.types import (
    WEIGHT_SUM_TOLERANCE,
    Artifact,
    Frozen,
    Symbol,
    Weight,
)


class SymbolWeight(Frozen):
    """One symbol's share of an allocation."""

    symbol: Symbol
    weight: Weight


def _check_weights(weights: tuple[SymbolWeight, ...], where: str) -> None:
    symbols = [w.symbol for w in weights]
    if len(set(symbols)) != len(symbols):
        dupes = sorted({s for s in symbols if symbols.count(s) > 1})
        raise ValueError(f"{where}: symbol listed twice: {', '.join(dupes)}")
    if symbols != sorted(symbols):
        raise ValueError(f"{where}: weights must be sorted by symbol")
    total = sum((w.weight for w in weights), Decimal(0))
    if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
        raise ValueError(
            f"{where}: weights sum to {total}, not 1 (tolerance {WEIGHT_SUM_TOLERANCE})"
        )


def weights_from_mapping(weights: Mapping[str, Decimal]) -> tuple[SymbolWeight, ...]:
    """Return sorted `SymbolWeight`s, dropping zero weights."""
    return tuple(SymbolWeight(symbol=s, weight=w) for s, w in sorted(weights.items()) if w != 0)


class DecisionStep(Frozen):
    """One decision a strategy took: where in its source, and the values that decided it."""

    where: str = Field(description="file:line:col of the operator")
    what: str


class StrategyContribution(Frozen):
    """One strategy's own weights and the share of the portfolio it was given."""

    strategy: str = Field(min_length=1)
    allocation: Weight = Field(description="share of the portfolio given to this strategy")
    weights: tuple[SymbolWeight, ...] = Field(description="the strategy's own weights, sum 1")
    kind: str = Field(default="fixed", description="fixed, symphony, ...")
    trace: tuple[DecisionStep, ...] = Field(
        default=(), description="branches taken and the indicator values that decided them"
    )
    warnings: tuple[str, ...] = Field(
        default=(), description="values substituted for missing history (e.g. RSI 50)"
    )
    rebalanced: bool = Field(
        default=True,
        description="false when the strategy's rebalance settings kept its held weights today",
    )

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> StrategyContribution:
        _check_weights(self.weights, f"strategy {self.strategy!r}")
        return self


class TargetAllocation(Artifact):
    """The merged target weights for one trading session."""

    KIND: ClassVar[str] = "target_allocation"

    as_of: date = Field(description="the trading session the signals were computed for")
    weights: tuple[SymbolWeight, ...]
    contributions: tuple[StrategyContribution, ...]

    @model_validator(mode="after")
    def _consistent(self) -> TargetAllocation:
        _check_weights(self.weights, "target allocation")
        total = sum((c.allocation for c in self.contributions), Decimal(0))
        if self.contributions and abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"strategy allocations sum to {total}, not 1")
        return self

    def weight_of(self, symbol: str) -> Decimal:
        """Return the target weight of `symbol` (0 when it is not targeted)."""
        return next((w.weight for w in self.weights if w.symbol == symbol), Decimal(0))

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the targeted symbols, sorted."""
        return tuple(w.symbol for w in self.weights)


def merge_contributions(
    contributions: Iterable[StrategyContribution],
) -> tuple[SymbolWeight, ...]:
    """Combine strategies' weights scaled by their allocations into one sorted set of weights."""
    merged: dict[str, Decimal] = {}
    for contribution in contributions:
        for w in contribution.weights:
            merged[w.symbol] = merged.get(w.symbol, Decimal(0)) + contribution.allocation * w.weight
    return weights_from_mapping(merged)
