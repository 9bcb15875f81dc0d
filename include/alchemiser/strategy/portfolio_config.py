"""The portfolio config file: which strategies run, with what share of the portfolio."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from alchemiser.domain.errors import ConfigError
from alchemiser.domain.symbols import canonical
from alchemiser.domain.types import WEIGHT_SUM_TOLERANCE, Frozen, Symbol, Weight

DEFAULT_PORTFOLIO = Path(__file__).resolve().parents[2] / "strategies" / "portfolio.yaml"
"""`include/strategies/portfolio.yaml`, next to the package in every deployment."""


class FixedWeightStrategy(Frozen):
    """A strategy that always wants the same weights."""

    kind: Literal["fixed"]
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    allocation: Weight
    weights: dict[Symbol, Weight]

    @field_validator("weights", mode="before")
    @classmethod
    def _canonical_symbols(cls, raw: object) -> object:
        # `BRK/B: 0.1` in YAML means the same share class as `BRK.B`: both keys at once would
        # silently keep only the later weight, so they are refused.
        if not isinstance(raw, dict):
            return raw
        weights: dict[object, object] = {}
        for key, value in raw.items():
            symbol = canonical(key) if isinstance(key, str) else key
            if symbol in weights:
                raise ValueError(f"two keys name {symbol}: give its weight once")
            weights[symbol] = value
        return weights

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> FixedWeightStrategy:
        total = sum(self.weights.values(), Decimal(0))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"weights of strategy {self.name!r} sum to {total}, not 1")
        return self


class _FileStrategy(Frozen):
    """A strategy read from a file next to the config, evaluated on market data each session."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    allocation: Weight
    path: str = Field(min_length=1, description="the strategy's file, relative to the config")
    allow_missing_data: bool = Field(
        default=False,
        description="in a run against a broker, let symbols without bars be dropped (each with a "
        "warning) instead of failing compute_signals",
    )

    def resolve(self, config_dir: Path) -> Path:
        """Return the strategy file's path."""
        return config_dir / self.path


class SymphonyStrategy(_FileStrategy):
    """A symphony file (docs/strategy-language.md)."""

    kind: Literal["symphony"]


class PythonStrategy(_FileStrategy):
    """A Python file whose function turns a point-in-time view of the bars into weights."""

    kind: Literal["python"]
    function: str = Field(
        default="weights",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the function in the file that returns the weights",
    )


StrategySpec = Annotated[
    FixedWeightStrategy | SymphonyStrategy | PythonStrategy, Field(discriminator="kind")
]


class PortfolioConfig(Frozen):
    """Strategies and their allocations; allocations sum to 1."""

    strategies: tuple[StrategySpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _allocations(self) -> PortfolioConfig:
        names = [s.name for s in self.strategies]
        if len(names) != len(set(names)):
            raise ValueError("strategy names must be unique")
        total = sum((s.allocation for s in self.strategies), Decimal(0))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"strategy allocations sum to {total}, not 1")
        return self


def load_portfolio_config(path: Path) -> PortfolioConfig:
    """Read and validate a portfolio config; errors name the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read portfolio config ({exc.strerror})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        # Numbers are re-read as strings so weights stay exact Decimals, never binary floats.
        return PortfolioConfig.model_validate(_decimals(raw))
    except ValidationError as exc:
        errors = exc.errors()
        # A list whose every item failed is also reported as too short; the items say why.
        failed = {err["loc"][:1] for err in errors if len(err["loc"]) > 1}
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in errors
            if not (err["type"] == "too_short" and err["loc"] in failed)
        )
        raise ConfigError(f"{path}: invalid portfolio config: {details}") from exc


def _decimals(node: object) -> object:
    if isinstance(node, dict):
        return {k: _decimals(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_decimals(v) for v in node]
    if isinstance(node, float):
        return Decimal(repr(node))
    return node
