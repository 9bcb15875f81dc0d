"""Turn a syntax tree into checked operator nodes; every mistake names file:line:col."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from alchemiser.domain.symbols import canonical
from alchemiser.strategy.errors import SymphonySyntaxError
from alchemiser.strategy.nodes import (
    FREQUENCIES,
    Asset,
    Compare,
    CompareOp,
    Expr,
    Filter,
    Group,
    If,
    Indicator,
    InverseVolatility,
    ListExpr,
    Lit,
    MapExpr,
    RebalanceRule,
    Symphony,
    WeightEqual,
    WeightSpecified,
)
from alchemiser.strategy.syntax import Node, Num, Seq, Str, Sym, to_source

INDICATORS: dict[str, dict[str, int]] = {
    "current-price": {},
    "rsi": {"window": 14},
    "moving-average-price": {"window": 200},
    "exponential-moving-average-price": {"window": 12},
    "moving-average-return": {"window": 21},
    "cumulative-return": {"window": 60},
    "stdev-return": {"window": 6},
    "stdev-price": {"window": 6},
    "max-drawdown": {"window": 60},
    "percentage-price-oscillator": {"short-window": 12, "long-window": 26},
    "percentage-price-oscillator-signal": {
        "short-window": 12,
        "long-window": 26,
        "smooth-window": 9,
    },
}
"""Indicators and their default parameters outside `filter`."""

FILTER_DEFAULT_WINDOW: dict[str, int] = {
    "rsi": 14,
    "moving-average-price": 200,
    "moving-average-return": 21,
    "cumulative-return": 60,
    "exponential-moving-average-price": 12,
    "stdev-return": 6,
    "stdev-price": 6,
    "max-drawdown": 60,
}
"""A `filter` metric without `:window` gets this one (any other indicator: 10)."""

_REQUIRES_MAP = frozenset({"moving-average-price"})
_REFUSED = {"ma": "`ma` is not supported", "volatility": "`volatility` is not supported"}
_COMPARE: frozenset[str] = frozenset({">", "<", ">=", "<=", "="})


def _fail(message: str, node: Node) -> SymphonySyntaxError:
    token = to_source(node)
    return SymphonySyntaxError(message, node.pos, token if len(token) <= 60 else token[:57] + "...")


def _literal(node: Num | Str | Sym) -> Lit:
    if isinstance(node, Num):
        return Lit(float(node.value), format(node.value, "f"), node.pos)
    if isinstance(node, Str):
        return Lit(node.value, node.value, node.pos)
    return Lit(node.name, node.name, node.pos)


def _head(node: Node) -> str | None:
    if isinstance(node, Seq) and node.kind != "map" and node.items:
        first = node.items[0]
        if isinstance(first, Sym):
            return first.name
    return None


def _number(node: Node, what: str) -> Decimal:
    if not isinstance(node, Num):
        raise _fail(f"{what} must be a number", node)
    return node.value


def _window(node: Node, what: str) -> int:
    value = int(_number(node, what))  # truncated, as the reference does
    if value < 1:
        raise _fail(f"{what} must be at least 1", node)
    return value


def _name(node: Node, what: str) -> str:
    if isinstance(node, Str | Sym):
        return node.name if isinstance(node, Sym) else node.value
    raise _fail(f"{what} must be a string", node)


def _rebalance_rule(config: Node) -> RebalanceRule:
    """Read `:rebalance-frequency` and `:rebalance-threshold` from the config map."""
    if not (isinstance(config, Seq) and config.kind == "map"):
        return RebalanceRule()
    settings = dict(zip(config.items[::2], config.items[1::2], strict=True))
    by_key = {_name(k, "a config key").lstrip(":"): v for k, v in settings.items()}
    threshold: Decimal | None = None
    if "rebalance-threshold" in by_key:
        node = by_key["rebalance-threshold"]
        threshold = _number(node, "the rebalance threshold")
        if not 0 < threshold < 1:
            raise _fail("the rebalance threshold must be between 0 and 1", node)
    # Composer writes `:none` when the threshold decides; a threshold alone means the same.
    frequency = "daily" if threshold is None else "none"
    if "rebalance-frequency" in by_key:
        node = by_key["rebalance-frequency"]
        frequency = _name(node, "the rebalance frequency").lstrip(":")
        if frequency not in FREQUENCIES:
            raise _fail(f"the rebalance frequency must be one of {', '.join(FREQUENCIES)}", node)
    return RebalanceRule(frequency, threshold)  # type: ignore[arg-type]  # checked above


class Compiler:
    """Compile one file; collects the symbols it mentions."""

    def __init__(self) -> None:
        self.symbols: set[str] = set()
        self._ops: dict[str, Callable[[Seq, Sequence[Node]], Expr]] = {
            "if": self._if,
            "asset": self._asset,
            "group": self._group,
            "weight-equal": self._weight_equal,
            "weight-specified": self._weight_specified,
            "weight-inverse-volatility": self._inverse_volatility,
            "filter": self._filter,
            "select-top": self._select,
            "select-bottom": self._select,
            "defsymphony": self._nested_symphony,
        }

    def symphony(self, root: Node, source: str) -> Symphony:
        """Compile a whole file, whose single form must be `defsymphony`."""
        if _head(root) != "defsymphony":
            raise _fail("a symphony file must be one (defsymphony name config body)", root)
        assert isinstance(root, Seq)
        args = root.items[1:]
        if len(args) < 3:
            raise _fail("defsymphony needs a name, a config map and a body", root)
        name = args[0].value if isinstance(args[0], Str) else to_source(args[0])
        rule = _rebalance_rule(args[1])
        body = self.expr(args[2])
        return Symphony(
            name=name, body=body, source=source, symbols=frozenset(self.symbols), rebalance=rule
        )

    def expr(self, node: Node) -> Expr:
        """Compile any expression."""
        if not isinstance(node, Seq):
            return _literal(node)
        if node.kind == "map":
            pairs = zip(node.items[::2], node.items[1::2], strict=True)
            return MapExpr(
                tuple((_name(k, "a map key").lstrip(":"), self.expr(v)) for k, v in pairs),
                node.pos,
            )
        head = _head(node)
        if head is None:
            return ListExpr(tuple(self.expr(i) for i in node.items), node.pos)
        args = node.items[1:]
        if head in _COMPARE:
            return self._compare(node, args)
        if head in INDICATORS:
            return self._indicator(node, args, in_filter=False)
        if head in _REFUSED:
            raise _fail(_REFUSED[head], node.items[0])
        op = self._ops.get(head)
        if op is None:
            raise _fail(f"unknown operator {head!r}", node.items[0])
        return op(node, args)

    def _nested_symphony(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) < 3:
            raise _fail("defsymphony needs a name, a config map and a body", node)
        return self.expr(args[2])

    def _compare(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) != 2:
            raise _fail("a comparison takes exactly 2 arguments", node)
        op = _name(node.items[0], "operator")
        assert op in _COMPARE
        op_typed: CompareOp = op  # type: ignore[assignment]
        return Compare(op_typed, self.expr(args[0]), self.expr(args[1]), node.pos)

    def _indicator(self, node: Seq, args: Sequence[Node], *, in_filter: bool) -> Indicator:
        kind = _name(node.items[0], "indicator")
        rest = list(args)
        symbol = None
        if rest and isinstance(rest[0], Str | Sym):
            symbol = canonical(_name(rest.pop(0), "symbol"))
            self.symbols.add(symbol)
        given: dict[str, int] = {}
        if rest and isinstance(rest[0], Seq) and rest[0].kind == "map":
            params_node = rest.pop(0)
            assert isinstance(params_node, Seq)
            pairs = zip(params_node.items[::2], params_node.items[1::2], strict=True)
            for key, value in pairs:
                given[_name(key, "parameter name").lstrip(":")] = _window(value, "a window")
        if rest:
            raise _fail(f"unexpected argument to {kind}", rest[0])
        if symbol is None and not in_filter:
            raise _fail(f"{kind} needs a symbol outside filter", node)
        if kind in _REQUIRES_MAP and not given and not in_filter:
            raise _fail(f"{kind} needs a {{:window n}} argument", node)
        defaults = dict(INDICATORS[kind])
        if in_filter and "window" in defaults:
            defaults["window"] = FILTER_DEFAULT_WINDOW.get(kind, 10)
        unknown = set(given) - set(defaults)
        if unknown and defaults:
            raise _fail(f"{kind} has no parameter {sorted(unknown)[0]!r}", node)
        merged = {**defaults, **{k: v for k, v in given.items() if k in defaults}}
        params = tuple(sorted(merged.items()))
        return Indicator(kind, symbol, params, node.pos)

    def _if(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) not in (2, 3):
            raise _fail("if takes a condition, a then branch and an optional else", node)
        otherwise = self.expr(args[2]) if len(args) == 3 else None
        return If(self.expr(args[0]), self.expr(args[1]), otherwise, node.pos)

    def _asset(self, node: Seq, args: Sequence[Node]) -> Expr:
        if not args:
            raise _fail("asset needs a symbol", node)
        symbol = canonical(_name(args[0], "an asset symbol"))
        self.symbols.add(symbol)
        return Asset(symbol, node.pos)

    def _group(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) < 2:
            raise _fail("group needs a name and a body", node)
        name = _name(args[0], "a group name")
        return Group(name, tuple(self.expr(a) for a in args[1:]), node.pos)

    def _weight_equal(self, node: Seq, args: Sequence[Node]) -> Expr:
        if not args:
            raise _fail("weight-equal needs at least one child", node)
        return WeightEqual(tuple(self.expr(a) for a in args), node.pos)

    def _weight_specified(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) < 2 or len(args) % 2:
            raise _fail("weight-specified takes pairs of weight and portfolio", node)
        pairs = tuple(
            (self.expr(w), self.expr(x)) for w, x in zip(args[::2], args[1::2], strict=True)
        )
        return WeightSpecified(pairs, node.pos)

    def _inverse_volatility(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) < 2:
            raise _fail("weight-inverse-volatility takes a window and portfolios", node)
        window = _window(args[0], "the window")
        metric = Indicator("stdev-return", None, (("window", window),), node.pos)
        return InverseVolatility(window, tuple(self.expr(a) for a in args[1:]), node.pos, metric)

    def _select(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) != 1:
            raise _fail("select-top/select-bottom take one number", node)
        count = int(_number(args[0], "the count"))
        return Lit(float(count), str(count), node.pos)

    def _filter(self, node: Seq, args: Sequence[Node]) -> Expr:
        if len(args) not in (2, 3):
            raise _fail("filter takes a metric, an optional selector and a portfolio", node)
        metric_node = args[0]
        metric_head = _head(metric_node)
        if metric_head not in INDICATORS:
            raise _fail("a filter metric must be an indicator call", metric_node)
        assert isinstance(metric_node, Seq)
        metric = self._indicator(metric_node, metric_node.items[1:], in_filter=True)
        select: str = "top"
        count: int | None = None
        if len(args) == 3:
            selector = args[1]
            select_head = _head(selector)
            if select_head not in ("select-top", "select-bottom"):
                raise _fail("a filter selector is (select-top n) or (select-bottom n)", selector)
            assert isinstance(selector, Seq)
            if len(selector.items) != 2:
                raise _fail("select-top/select-bottom take one number", selector)
            count = int(_number(selector.items[1], "the count"))
            if count < 1:
                raise _fail(f"{select_head}: the count must be at least 1", selector.items[1])
            select = "top" if select_head == "select-top" else "bottom"
        return Filter(
            metric,
            "top" if select == "top" else "bottom",
            count,
            self.expr(args[-1]),
            node.pos,
        )


def compile_symphony(root: Node, source: str) -> Symphony:
    """Compile a `defsymphony` syntax tree."""
    return Compiler().symphony(root, source)
