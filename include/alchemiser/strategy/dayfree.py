"""Which groups give the same result on every day: no indicator, filter or volatility inside.

A group back-fill evaluates each scored group on every weekday of its look-back, and most groups
of a large symphony are fixed baskets (assets, weights and literal conditions only). Their body
is the same value whatever the day, so the back-fill evaluates it once (see
`Evaluator.group_result`).
"""

from __future__ import annotations

from alchemiser.strategy.nodes import (
    Compare,
    Expr,
    Filter,
    Group,
    If,
    Indicator,
    InverseVolatility,
    ListExpr,
    MapExpr,
    WeightEqual,
    WeightSpecified,
)


def day_free(expr: Expr, known: dict[Group, bool]) -> bool:
    """Return whether `expr` evaluates alike on every day (`known` memoises groups)."""
    if isinstance(expr, Group):
        found = known.get(expr)
        if found is None:
            found = known[expr] = all(day_free(e, known) for e in expr.body)
        return found
    if isinstance(expr, Indicator | Filter | InverseVolatility):
        return False
    return all(day_free(e, known) for e in _parts(expr))


def _parts(expr: Expr) -> tuple[Expr, ...]:
    """Return the sub-expressions of a node that reads no market data itself."""
    match expr:
        case ListExpr(items=items) | WeightEqual(args=items):
            return items
        case MapExpr(entries=entries):
            return tuple(e for _, e in entries)
        case Compare(left=left, right=right):
            return (left, right)
        case If(cond=cond, then=then, otherwise=otherwise):
            return (cond, then) if otherwise is None else (cond, then, otherwise)
        case WeightSpecified(pairs=pairs):
            return tuple(e for pair in pairs for e in pair)
        case _:  # a literal or an asset
            return ()
