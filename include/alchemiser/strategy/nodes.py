"""The compiled form of a symphony: one typed node per operator, arguments checked once.

Compiling resolves everything that does not depend on market data (operator, arity, symbol,
indicator parameters), so evaluating another day is only a walk over these nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from alchemiser.strategy.errors import SourcePos

CompareOp = Literal[">", "<", ">=", "<=", "="]
Scalar = float | str | bool


@dataclass(frozen=True, slots=True, eq=False)
class Lit:
    """A literal: a number (as float, see docs), a string, or a symbol's name."""

    value: Scalar
    text: str
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class ListExpr:
    """A list not headed by an operator: evaluates to the list of its evaluated items."""

    items: tuple[Expr, ...]
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class MapExpr:
    """A `{:k v}` map outside an indicator call; keys lose their leading colon."""

    entries: tuple[tuple[str, Expr], ...]
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class Indicator:
    """An indicator call; `symbol` is None only for a `filter` metric."""

    kind: str
    symbol: str | None
    params: tuple[tuple[str, int], ...]
    pos: SourcePos

    @property
    def window(self) -> int | None:
        """Return the `:window` parameter, if given."""
        return dict(self.params).get("window")

    def label(self, symbol: str | None = None) -> str:
        """Return a short human form, e.g. `rsi(SPY, 10)`."""
        args = [symbol or self.symbol or "?"] + [str(v) for _, v in self.params]
        return f"{self.kind}({', '.join(args)})"


@dataclass(frozen=True, slots=True, eq=False)
class Compare:
    """A comparison of two operands."""

    op: CompareOp
    left: Expr
    right: Expr
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class If:
    """`(if c then else)`; only the chosen branch is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr | None
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class Asset:
    """`(asset "SYM")`: evaluates to the upper-cased symbol."""

    symbol: str
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class Group:
    """`(group "name" body...)`: the last body result, remembered for group scoring."""

    name: str
    body: tuple[Expr, ...]
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class WeightEqual:
    """Each child 1/N, nested weights kept."""

    args: tuple[Expr, ...]
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class WeightSpecified:
    """Pairs of weight and portfolio; each portfolio normalised then scaled."""

    pairs: tuple[tuple[Expr, Expr], ...]
    pos: SourcePos


@dataclass(frozen=True, slots=True, eq=False)
class InverseVolatility:
    """Weights by 1/stdev-return(window), per asset (flat) or per group (grouped).

    `metric` is that stdev-return, made once here: reads are cached per metric node.
    """

    window: int
    args: tuple[Expr, ...]
    pos: SourcePos
    metric: Indicator


@dataclass(frozen=True, slots=True, eq=False)
class Filter:
    """Rank candidates by a metric and keep the top or bottom `count` (None keeps all)."""

    metric: Indicator
    select: Literal["top", "bottom"]
    count: int | None
    portfolio: Expr
    pos: SourcePos


Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly", "none"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "monthly", "quarterly", "yearly", "none")


@dataclass(frozen=True, slots=True)
class RebalanceRule:
    """A symphony's rebalance settings; the default trades every session."""

    frequency: Frequency = "daily"
    threshold: Decimal | None = None

    @property
    def every_session(self) -> bool:
        """Return whether the rule trades on every session whatever the drift."""
        return self.frequency == "daily"


@dataclass(frozen=True, slots=True, eq=False)
class Symphony:
    """A compiled `defsymphony`: its name, its body and every symbol it mentions."""

    name: str
    body: Expr
    source: str
    symbols: frozenset[str] = field(default_factory=frozenset)
    rebalance: RebalanceRule = field(default_factory=RebalanceRule)


Expr = (
    Lit
    | ListExpr
    | MapExpr
    | Indicator
    | Compare
    | If
    | Asset
    | Group
    | WeightEqual
    | WeightSpecified
    | InverseVolatility
    | Filter
)
