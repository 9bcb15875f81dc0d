"""Evaluate a portfolio config: each strategy on its own, scaled by allocation, then merged."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from alchemiser.domain.allocation import (
    DecisionStep,
    StrategyContribution,
    TargetAllocation,
    merge_contributions,
    weights_from_mapping,
)
from alchemiser.domain.errors import MarketDataError, StrategyError
from alchemiser.strategy.errors import StrategyFailedError
from alchemiser.strategy.fixed import evaluate_fixed
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import Symphony
from alchemiser.strategy.portfolio_config import PortfolioConfig, SymphonyStrategy
from alchemiser.strategy.symphony import Engine, load_symphony

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class LoadedPortfolio:
    """A config with its symphony files parsed once, and a digest of everything read."""

    config: PortfolioConfig
    symphonies: Mapping[str, Symphony]
    digest: str

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return every symbol any symphony mentions, sorted."""
        return tuple(sorted(set().union(*(s.symbols for s in self.symphonies.values()))))


def load_portfolio(config: PortfolioConfig, config_path: Path) -> LoadedPortfolio:
    """Parse every symphony a config names; a broken file fails with its strategy's name."""
    digest = hashlib.sha256(config_path.read_bytes())
    symphonies: dict[str, Symphony] = {}
    for spec in config.strategies:
        if isinstance(spec, SymphonyStrategy):
            path = spec.resolve(config_path.parent)
            try:
                symphonies[spec.name] = load_symphony(path, label=spec.path)
                digest.update(path.read_bytes())
            except StrategyError as exc:
                raise StrategyFailedError(spec.name, exc) from exc
    return LoadedPortfolio(config, symphonies, digest.hexdigest()[:12])


def missing_symbols(
    portfolio: LoadedPortfolio, history: PriceHistory
) -> dict[str, tuple[str, ...]]:
    """Return, per strategy, the symbols it names that have no bars in `history`."""
    out: dict[str, tuple[str, ...]] = {}
    for name, symphony in portfolio.symphonies.items():
        missing = tuple(sorted(s for s in symphony.symbols if s not in history))
        if missing:
            out[name] = missing
    return out


def check_data(portfolio: LoadedPortfolio, history: PriceHistory) -> None:
    """Fail on a symbol a strategy names that has no bars, unless that strategy allows drops."""
    missing = missing_symbols(portfolio, history)
    for spec in portfolio.config.strategies:
        if spec.name not in missing or getattr(spec, "allow_missing_data", False):
            continue
        raise StrategyFailedError(
            spec.name,
            MarketDataError(
                f"no bars for {', '.join(missing[spec.name])}; set allow_missing_data: true on "
                "this strategy in the portfolio config to drop them with a warning instead"
            ),
        )


def contributions(
    portfolio: LoadedPortfolio, engine: Engine, as_of: date
) -> tuple[StrategyContribution, ...]:
    """Evaluate every strategy as of a session; the first failure fails the whole portfolio."""
    out: list[StrategyContribution] = []
    missing = missing_symbols(portfolio, engine.history)
    for spec in portfolio.config.strategies:
        if not isinstance(spec, SymphonyStrategy):
            out.append(evaluate_fixed(spec))
            continue
        try:
            result = engine.evaluate(portfolio.symphonies[spec.name], as_of)
        except (StrategyError, MarketDataError) as exc:
            raise StrategyFailedError(spec.name, exc) from exc
        out.append(
            StrategyContribution(
                strategy=spec.name,
                allocation=spec.allocation,
                weights=weights_from_mapping(result.weights),
                kind="symphony",
                trace=tuple(
                    DecisionStep(where=str(s.where), what=s.text) for s in result.trace.steps
                ),
                warnings=(
                    *(
                        f"no bars for {s}: dropped wherever it is scored"
                        for s in missing.get(spec.name, ())
                    ),
                    *result.trace.warnings,
                ),
            )
        )
    return tuple(out)


def allocate_portfolio(
    portfolio: LoadedPortfolio, engine: Engine, as_of: date, run_id: str
) -> TargetAllocation:
    """Return the merged target allocation, keeping each strategy's contribution."""
    parts = contributions(portfolio, engine, as_of)
    return TargetAllocation(
        run_id=run_id,
        derived_from=(f"portfolio_config:{portfolio.digest}",),
        as_of=as_of,
        weights=merge_contributions(parts),
        contributions=parts,
    )


def portfolio_of_files(paths: list[Path]) -> LoadedPortfolio:
    """Return symphony files as one portfolio, each given an equal allocation."""
    share = Decimal(1) / len(paths)
    specs: list[SymphonyStrategy] = []
    names: set[str] = set()
    for i, path in enumerate(paths):
        name = _SAFE.sub("_", path.stem) or "symphony"
        if name in names:
            name = f"{name}.{i + 1}"
        names.add(name)
        specs.append(
            SymphonyStrategy(kind="symphony", name=name, allocation=share, path=str(path.resolve()))
        )
    config = PortfolioConfig(strategies=tuple(specs))
    digest = hashlib.sha256()
    symphonies: dict[str, Symphony] = {}
    for spec in specs:
        path = Path(spec.path)
        try:
            symphonies[spec.name] = load_symphony(path)
            digest.update(path.read_bytes())
        except StrategyError as exc:
            raise StrategyFailedError(spec.name, exc) from exc
    return LoadedPortfolio(config, symphonies, digest.hexdigest()[:12])
