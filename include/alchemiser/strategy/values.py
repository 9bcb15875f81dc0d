"""What expressions evaluate to, and the portfolio arithmetic shared by the operators.

Weights are float64 while a symphony is walked (see docs/strategy-language.md); they become
exact Decimals once, at the root, in `final_weights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from alchemiser.domain.types import QTY_STEP
from alchemiser.strategy.errors import SourcePos, SymphonyEvaluationError
from alchemiser.strategy.nodes import Group


@dataclass(slots=True, eq=False)
class Fragment:
    """A portfolio: symbol -> weight; `group` is set when a named group produced it."""

    weights: dict[str, float]
    group: Group | None = None

    def first_symbol(self) -> str:
        """Return the alphabetically first symbol (the tie-break of portfolio filters)."""
        return min(self.weights) if self.weights else ""


Value = str | float | bool | Fragment | list["Value"] | dict[str, "Value"]


def fail(message: str, pos: SourcePos, token: str) -> SymphonyEvaluationError:
    """Return the error for an operator that cannot produce a portfolio."""
    return SymphonyEvaluationError(message, pos, token)


def unwrap(value: Value) -> Value:
    """Strip single-element lists: `[[x]]` is `x`."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def children(values: list[Value]) -> list[Value]:
    """Split list arguments into their items: each item is a child of its own."""
    out: list[Value] = []
    append = out.append
    for value in values:
        if isinstance(value, list):
            for entry in value:
                item = entry
                while isinstance(item, list) and len(item) == 1:  # `unwrap`, without a call
                    item = item[0]
                append(item)
        else:
            append(value)
    return out


def normalised(value: Value, pos: SourcePos, token: str) -> dict[str, float]:
    """Return `value` as weights summing to 1 (a list splits equally among its items)."""
    while isinstance(value, list) and len(value) == 1:  # `unwrap`, without a call
        value = value[0]
    if isinstance(value, str):
        return {value: 1.0}
    if isinstance(value, Fragment):
        total = sum(value.weights.values())
        if total == 1.0:  # most portfolios: w / 1.0 is w, so a copy is the same dict
            return dict(value.weights)
        if not total > 0:
            raise fail("a portfolio with no positive weight", pos, token)
        return {s: w / total for s, w in value.weights.items()}
    if isinstance(value, list):
        if not value:
            raise fail("an empty portfolio", pos, token)
        return equal_share([normalised(v, pos, token) for v in children(value)])
    raise fail(f"expected an asset or a portfolio, got {value!r}", pos, token)


def equal_share(parts: list[dict[str, float]]) -> dict[str, float]:
    """Give each part 1/N of the whole, keeping its internal weights."""
    share = 1.0 / len(parts)
    merged: dict[str, float] = {}
    for part in parts:
        for symbol, weight in part.items():
            merged[symbol] = merged.get(symbol, 0.0) + weight * share
    return merged


def weigh_equally(kids: list[Value], pos: SourcePos, token: str) -> dict[str, float]:
    """Return `equal_share` of each kid `normalised`: the same sums, without a dict per asset."""
    share = 1.0 / len(kids)
    merged: dict[str, float] = {}
    get = merged.get
    for kid in kids:
        if type(kid) is str:  # an asset: `normalised` gives {kid: 1.0}, and 1.0 * share is share
            merged[kid] = get(kid, 0.0) + share
        else:
            for symbol, weight in normalised(kid, pos, token).items():
                merged[symbol] = get(symbol, 0.0) + weight * share
    return merged


def symbols_in(value: Value) -> list[str]:
    """Return every symbol a value holds, de-duplicated, in order of appearance."""
    seen: dict[str, None] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            seen.setdefault(item, None)
        elif isinstance(item, Fragment):
            for symbol in item.weights:
                seen.setdefault(symbol, None)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return list(seen)


def final_weights(weights: dict[str, float], pos: SourcePos) -> dict[str, Decimal]:
    """Normalise, check and quantise root weights to Decimals that sum to exactly 1."""
    total = sum(weights.values())
    if not weights or not total > 0:
        raise fail("the symphony selected nothing", pos, "defsymphony")
    exact: dict[str, Decimal] = {}
    for symbol, weight in sorted(weights.items()):
        share = weight / total
        if not -1e-12 <= share <= 1.0 + 1e-12:
            raise fail(f"weight of {symbol} is {share}, outside [0, 1]", pos, "defsymphony")
        q = Decimal(repr(share)).quantize(QTY_STEP, rounding=ROUND_HALF_EVEN)
        if q > 0:
            exact[symbol] = min(q, Decimal(1))
    if not exact:
        raise fail("every weight rounds to zero", pos, "defsymphony")
    residual = Decimal(1) - sum(exact.values(), Decimal(0))
    # Deterministic: the largest weight (alphabetically first on a tie) absorbs the rounding.
    largest = min(exact, key=lambda s: (-exact[s], s))
    exact[largest] += residual
    return exact
