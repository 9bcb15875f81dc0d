"""Evaluate a portfolio config: each strategy on its own, scaled by allocation, then merged."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from alchemiser.strategy.evaluator import Evaluation
from alchemiser.strategy.fixed import evaluate_fixed
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import RebalanceRule, Symphony
from alchemiser.strategy.portfolio_config import (
    FixedWeightStrategy,
    PortfolioConfig,
    PythonStrategy,
    SymphonyStrategy,
)
from alchemiser.strategy.python import (
    PythonCode,
    PythonEvaluation,
    evaluate_python,
    load_python,
)
from alchemiser.strategy.symphony import Engine, load_symphony
from alchemiser.strategy.trace import Trace

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class LoadedPortfolio:
    """A config with its symphony and Python files loaded once, and a digest of everything read."""

    config: PortfolioConfig
    symphonies: Mapping[str, Symphony]
    digest: str
    python: Mapping[str, PythonCode] = field(default_factory=dict)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return every symbol any symphony or Python strategy names, sorted."""
        return tuple(sorted(set().union(*self.symbols_by_strategy().values())))

    def symbols_by_strategy(self) -> dict[str, frozenset[str]]:
        """Return the symbols each market-data strategy names."""
        named = {name: s.symbols for name, s in self.symphonies.items()}
        return named | {name: code.symbols for name, code in self.python.items()}


def load_portfolio(config: PortfolioConfig, config_path: Path) -> LoadedPortfolio:
    """Parse every symphony a config names; a broken file fails with its strategy's name."""
    return _load_files(config, config_path.parent, config_path.read_bytes())


def _load_files(config: PortfolioConfig, root: Path, seed: bytes) -> LoadedPortfolio:
    """Load each symphony and Python file of `config` (paths relative to `root`); the digest
    covers `seed` and every file."""
    digest = hashlib.sha256(seed)
    symphonies: dict[str, Symphony] = {}
    python: dict[str, PythonCode] = {}
    for spec in config.strategies:
        if isinstance(spec, FixedWeightStrategy):
            continue
        path = spec.resolve(root)
        try:
            if isinstance(spec, SymphonyStrategy):
                symphonies[spec.name] = load_symphony(path, label=spec.path)
            else:
                python[spec.name] = load_python(spec.name, path, spec.function, spec.path)
            digest.update(path.read_bytes())
        except StrategyError as exc:
            raise StrategyFailedError(spec.name, exc) from exc
    return LoadedPortfolio(config, symphonies, digest.hexdigest()[:12], python)


def missing_symbols(
    portfolio: LoadedPortfolio, history: PriceHistory
) -> dict[str, tuple[str, ...]]:
    """Return, per strategy, the symbols it names that have no bars in `history`."""
    out: dict[str, tuple[str, ...]] = {}
    for name, symbols in portfolio.symbols_by_strategy().items():
        missing = tuple(sorted(s for s in symbols if s not in history))
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
    portfolio: LoadedPortfolio, engine: Engine, as_of: date, *, explain: bool = True
) -> tuple[StrategyContribution, ...]:
    """Evaluate every strategy as of a session; the first failure fails the whole portfolio.

    Without `explain` a symphony's contribution carries its warnings but no decision steps.
    """
    out: list[StrategyContribution] = []
    missing = missing_symbols(portfolio, engine.history)
    for spec in portfolio.config.strategies:
        if isinstance(spec, FixedWeightStrategy):
            out.append(evaluate_fixed(spec))
            continue
        try:
            if isinstance(spec, SymphonyStrategy):
                result: Evaluation | PythonEvaluation = engine.evaluate(
                    portfolio.symphonies[spec.name], as_of, explain=explain
                )
            else:
                result = evaluate_python(portfolio.python[spec.name], engine.history, as_of)
        except (StrategyError, MarketDataError) as exc:
            raise StrategyFailedError(spec.name, exc) from exc
        out.append(_contribution(spec, result.weights, result.trace, missing.get(spec.name, ())))
    return tuple(out)


def _contribution(
    spec: SymphonyStrategy | PythonStrategy,
    weights: Mapping[str, Decimal],
    trace: Trace,
    missing: tuple[str, ...],
) -> StrategyContribution:
    dropped = "dropped wherever it is scored" if spec.kind == "symphony" else "not in the view"
    held = "held anyway (is the ticker right?)"
    return StrategyContribution(
        strategy=spec.name,
        allocation=spec.allocation,
        weights=weights_from_mapping(weights),
        kind=spec.kind,
        trace=tuple(DecisionStep(where=str(s.where), what=s.text) for s in trace.steps),
        warnings=(
            *(f"no bars for {s}: {held if s in weights else dropped}" for s in missing),
            *trace.warnings,
        ),
    )


def allocate_portfolio(
    portfolio: LoadedPortfolio, engine: Engine, as_of: date, run_id: str, *, explain: bool = True
) -> TargetAllocation:
    """Return the merged target allocation, keeping each strategy's contribution."""
    parts = contributions(portfolio, engine, as_of, explain=explain)
    return TargetAllocation(
        run_id=run_id,
        derived_from=(f"portfolio_config:{portfolio.digest}",),
        as_of=as_of,
        weights=merge_contributions(parts),
        contributions=parts,
    )


def portfolio_of_files(paths: list[Path]) -> LoadedPortfolio:
    """Return strategy files as one portfolio, each given an equal allocation.

    A `.py` file is a Python strategy (its function `weights`); any other file is a symphony.
    """
    share = Decimal(1) / len(paths)
    specs: list[SymphonyStrategy | PythonStrategy] = []
    names: set[str] = set()
    for i, path in enumerate(paths):
        name = _SAFE.sub("_", path.stem) or "symphony"
        if name in names:
            name = f"{name}.{i + 1}"
        names.add(name)
        where = str(path.resolve())
        if path.suffix == ".py":
            specs.append(PythonStrategy(kind="python", name=name, allocation=share, path=where))
        else:
            specs.append(SymphonyStrategy(kind="symphony", name=name, allocation=share, path=where))
    # The paths are absolute: the root they would be relative to is never used.
    return _load_files(PortfolioConfig(strategies=tuple(specs)), Path("/"), b"")


def rebalance_rules(portfolio: LoadedPortfolio) -> dict[str, RebalanceRule]:
    """Return the symphonies whose settings do not simply trade every session."""
    return {
        name: symphony.rebalance
        for name, symphony in portfolio.symphonies.items()
        if not symphony.rebalance.every_session
    }
