"""Walk a compiled symphony as of one day: pure, bars in, weights and a trace out."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from alchemiser.strategy import scoring
from alchemiser.strategy.book import FastRead, IndicatorBook, MissingDataError, Reading
from alchemiser.strategy.dayfree import day_free
from alchemiser.strategy.errors import SymphonyDataError
from alchemiser.strategy.nodes import (
    Asset,
    Compare,
    Expr,
    Filter,
    Group,
    If,
    Indicator,
    InverseVolatility,
    ListExpr,
    Lit,
    MapExpr,
    Symphony,
    WeightEqual,
    WeightSpecified,
)
from alchemiser.strategy.trace import Trace, number
from alchemiser.strategy.values import (
    Fragment,
    Value,
    children,
    fail,
    final_weights,
    normalised,
    unwrap,
    weigh_equally,
)


@dataclass
class Workspace:
    """What evaluations of one run share: indicator series, group weights and returns per day."""

    book: IndicatorBook
    # Per group, then per ordinal day: the back-fill loop looks days up by an int key.
    group_days: dict[Group, dict[int, dict[str, float] | None]] = field(default_factory=dict)
    group_returns: dict[Group, dict[int, float]] = field(default_factory=dict)
    group_values: dict[tuple[Group, int], Value] = field(default_factory=dict)
    return_streams: dict[tuple[Group, int, int], tuple[float, ...] | None] = field(
        default_factory=dict
    )
    labels: dict[Indicator, str] = field(default_factory=dict)
    fast_reads: dict[tuple[Indicator, str], FastRead] = field(default_factory=dict)
    backfilling: set[Group] = field(default_factory=set)
    day_free: dict[Group, bool] = field(default_factory=dict)
    # Per (day before, day): each symbol's return between them, None without both closes.
    moves: dict[tuple[int, int], dict[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """A symphony's weights as of a day, and why."""

    as_of: date
    weights: dict[str, Decimal]
    trace: Trace


def _numeric(value: Value) -> float:
    # The reference converts each side to Decimal; comparing the floats themselves gives the
    # same answer (see docs: a float and the shortest decimal that prints it order alike).
    if type(value) is float:  # the common case first: an indicator value
        return value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            return 0.0
        return float(parsed) if parsed.is_finite() else 0.0
    return 0.0


class Evaluator:
    """Evaluates expressions as of one ordinal day; `trace` is None in group back-fills.

    `steps` is the trace when decisions are recorded too, None when only warnings are.
    """

    def __init__(
        self, space: Workspace, day: int, trace: Trace | None, *, explain: bool = True
    ) -> None:
        self.space = space
        self.book = space.book
        self.day = day
        self.trace = trace
        self.steps = trace if explain else None

    def at(self, day: int) -> Evaluator:
        """Return an evaluator for another day that shares this one's caches, untraced."""
        return Evaluator(self.space, day, None)

    def eval(self, expr: Expr) -> Value:
        """Evaluate one expression."""
        return _DISPATCH[type(expr)](self, expr)

    def read(self, metric: Indicator, symbol: str) -> float:
        """Return an indicator for `symbol` (the metric's own one unless injected)."""
        fast = self.space.fast_reads.get((metric, symbol))
        if fast is not None:  # the plain case without the book's rules: a look-up
            days, series, least = fast
            n = bisect_right(days, self.day)
            if n >= least:
                value: float = series.item(n - 1)
                if value == value:  # noqa: PLR0124 - NaN test without a call, on the hot path
                    return value
        try:
            reading: Reading = self.book.read(metric.kind, symbol, metric.params, self.day)
        except MissingDataError as exc:
            raise SymphonyDataError(str(exc), metric.pos, metric.label(symbol)) from exc
        if fast is None:
            found = self.book.fast_read(metric.kind, symbol, metric.params)
            if found is not None:
                self.space.fast_reads[metric, symbol] = found
        if reading.warning is not None and self.trace is not None:
            self.trace.warn(metric.pos, reading.warning)
        return reading.value

    def _lit(self, expr: Lit) -> Value:
        return expr.value

    def _list(self, expr: ListExpr) -> Value:
        return [self.eval(item) for item in expr.items]

    def _map(self, expr: MapExpr) -> Value:
        return {key: self.eval(value) for key, value in expr.entries}

    def _indicator(self, expr: Indicator) -> Value:
        assert expr.symbol is not None  # the compiler allows None only inside filter
        return self.read(expr, expr.symbol)

    def _operand(self, expr: Expr) -> tuple[float, str]:
        value = _numeric(self.eval(expr))
        if isinstance(expr, Indicator):
            labels = self.space.labels
            label = labels.get(expr)
            if label is None:
                label = labels[expr] = expr.label()
            return value, f"{label}={number(value)}"
        if isinstance(expr, Lit):
            return value, expr.text
        return value, number(value)

    def _compare(self, expr: Compare) -> Value:
        if expr.op == "=":
            left, right = self.eval(expr.left), self.eval(expr.right)
            if isinstance(left, str) and isinstance(right, str):
                return left == right
            if isinstance(left, str) or isinstance(right, str):
                return False
            return _numeric(left) == _numeric(right)
        a, b = _numeric(self.eval(expr.left)), _numeric(self.eval(expr.right))
        return _OPS[expr.op](a, b)

    def _if(self, expr: If) -> Value:
        cond = expr.cond
        steps = self.steps
        if steps is not None and isinstance(cond, Compare) and cond.op != "=":
            (a, left), (b, right) = self._operand(cond.left), self._operand(cond.right)
            taken = _OPS[cond.op](a, b)
            branch = "then" if taken else ("else" if expr.otherwise is not None else "no else")
            steps.step(expr.pos, f"{left} {cond.op} {right} is {str(taken).lower()}: {branch}")
        else:
            taken = bool(self.eval(cond))
            if steps is not None:
                steps.step(expr.pos, f"condition is {str(taken).lower()}")
        if taken:
            return self.eval(expr.then)
        if expr.otherwise is None:
            raise fail("the condition is false and this if has no else branch", expr.pos, "if")
        return self.eval(expr.otherwise)

    def _asset(self, expr: Asset) -> Value:
        return expr.symbol

    def group_result(self, expr: Group) -> Value:
        """Evaluate a group's body: the last result, a str or portfolio tagged with the group."""
        if self.trace is not None:
            return self._group_body(expr)
        # Untraced (a group back-fill): a group's value on a day is the same wherever it is
        # nested, and nested back-fills ask for it again and again; a group that reads no
        # data has one value for all days (kept under day 0, which no evaluation has).
        space = self.space
        free = space.day_free.get(expr)
        if free is None:
            free = day_free(expr, space.day_free)
        key = (expr, 0 if free else self.day)
        memo = space.group_values
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._group_body(expr)
        return found

    def _group_body(self, expr: Group) -> Value:
        result: Value = []
        for item in expr.body:
            result = self.eval(item)
        result = unwrap(result)
        if isinstance(result, str):
            return Fragment({result: 1.0}, expr)
        if isinstance(result, Fragment):
            return Fragment(result.weights, expr)
        return result

    def _weight_equal(self, expr: WeightEqual) -> Value:
        kids = children([self.eval(a) for a in expr.args])
        if not kids:
            raise fail("weight-equal has no children", expr.pos, "weight-equal")
        return Fragment(weigh_equally(kids, expr.pos, "weight-equal"))

    def _weight_specified(self, expr: WeightSpecified) -> Value:
        merged: dict[str, float] = {}
        for weight_expr, portfolio in expr.pairs:
            weight = _numeric(self.eval(weight_expr))
            if weight < 0:
                raise fail(f"negative weight {weight}", weight_expr.pos, "weight-specified")
            for symbol, w in normalised(self.eval(portfolio), portfolio.pos, "weight").items():
                merged[symbol] = merged.get(symbol, 0.0) + w * weight
        return Fragment(merged)


def _inverse_volatility(ev: Evaluator, expr: InverseVolatility) -> Value:
    return scoring.inverse_volatility(ev, expr)


def _filter(ev: Evaluator, expr: Filter) -> Value:
    return scoring.apply_filter(ev, expr)


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}

_DISPATCH: dict[type, Callable[[Evaluator, Any], Value]] = {
    Lit: Evaluator._lit,
    ListExpr: Evaluator._list,
    MapExpr: Evaluator._map,
    Indicator: Evaluator._indicator,
    Compare: Evaluator._compare,
    If: Evaluator._if,
    Asset: Evaluator._asset,
    Group: Evaluator.group_result,
    WeightEqual: Evaluator._weight_equal,
    WeightSpecified: Evaluator._weight_specified,
    InverseVolatility: _inverse_volatility,
    Filter: _filter,
}


def evaluate(
    symphony: Symphony, space: Workspace, as_of: date, *, explain: bool = True
) -> Evaluation:
    """Evaluate `symphony` using only bars dated on or before `as_of`.

    Without `explain` the trace holds the warnings only: the same walk, no decision text.
    """
    trace = Trace()
    evaluator = Evaluator(space, as_of.toordinal(), trace, explain=explain)
    try:
        result = evaluator.eval(symphony.body)
    except RecursionError as exc:  # a deep file within the reader's limits on a small stack
        raise fail("nested too deeply to evaluate", symphony.body.pos, "defsymphony") from exc
    weights = normalised(result, symphony.body.pos, "defsymphony")
    return Evaluation(as_of, final_weights(weights, symphony.body.pos), trace)
