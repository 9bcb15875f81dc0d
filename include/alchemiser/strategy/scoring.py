"""`filter` (asset and portfolio mode), group scoring, and `weight-inverse-volatility`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

from alchemiser.strategy.errors import SymphonyError
from alchemiser.strategy.nodes import Filter, Group, Indicator, InverseVolatility
from alchemiser.strategy.trace import number
from alchemiser.strategy.values import (
    Fragment,
    Value,
    children,
    equal_share,
    fail,
    normalised,
    symbols_in,
    unwrap,
)

if TYPE_CHECKING:
    from alchemiser.strategy.evaluator import Evaluator

GROUP_METRICS = frozenset(
    {"moving-average-return", "cumulative-return", "stdev-return", "max-drawdown", "rsi"}
)
ANNUALISE = 15.8745078664  # sqrt(252) to the reference's 10 decimals
MAX_LOOKBACK_DAYS = 45
_UNKNOWN: dict[str, float] = {}  # a sentinel: not yet in the group-day memo
Stream = tuple[float, ...]
"""A group's daily returns: a tuple of floats, which the garbage collector stops tracking."""


def _score(ev: Evaluator, metric: Indicator, symbol: str, dropper: str = "filter") -> float | None:
    try:
        return ev.read(metric, symbol)
    except SymphonyError as exc:
        # A candidate whose score fails is dropped, as in the reference, but never quietly.
        if ev.trace is not None:
            ev.trace.warn(metric.pos, f"{dropper} dropped {symbol}: {exc.reason}")
        return None


def apply_filter(ev: Evaluator, node: Filter) -> Value:
    """Rank the portfolio's assets (or groups) by the metric and keep `count` of them."""
    portfolio = ev.eval(node.portfolio)
    items = _flat(portfolio)
    if any(isinstance(i, Fragment) and i.group is not None for i in items):
        return _portfolio_mode(ev, node, items)
    scored: list[tuple[float, str]] = []
    for symbol in symbols_in(portfolio):
        score = _score(ev, node.metric, symbol)
        if score is not None:
            scored.append((score, symbol))
    sign = -1.0 if node.select == "top" else 1.0
    scored.sort(key=lambda p: (sign * p[0], p[1]))
    kept = scored if node.count is None else scored[: node.count]
    _trace(ev, node, [(s, sym) for s, sym in scored], [sym for _, sym in kept])
    if not kept:
        raise fail("no candidate could be scored or selected", node.pos, "filter")
    return Fragment({symbol: 1.0 / len(kept) for _, symbol in kept})


def _flat(value: Value) -> list[Value]:
    value = unwrap(value)
    return children(value) if isinstance(value, list) else [value]


def _portfolio_mode(ev: Evaluator, node: Filter, items: list[Value]) -> Value:
    candidates: list[tuple[float, str, Fragment, str]] = []
    for item in items:
        fragment = Fragment({item: 1.0}) if isinstance(item, str) else item
        if not isinstance(fragment, Fragment):
            raise fail(f"cannot rank {fragment!r}", node.pos, "filter")
        score = _fragment_score(ev, node.metric, fragment)
        name = fragment.group.name if fragment.group else ", ".join(fragment.weights)
        if score is None:
            if ev.trace is not None:
                ev.trace.warn(node.pos, f"filter dropped {name}: no score could be computed")
            continue
        if node.metric.kind == "max-drawdown":
            score = -score  # so that select-top keeps the smallest drawdown
        candidates.append((score, fragment.first_symbol(), fragment, name))
    sign = -1.0 if node.select == "top" else 1.0
    candidates.sort(key=lambda c: (sign * c[0], c[1]))
    kept = candidates if node.count is None else candidates[: node.count]
    _trace(ev, node, [(c[0], c[3]) for c in candidates], [c[3] for c in kept])
    if not kept:
        raise fail("no candidate could be scored or selected", node.pos, "filter")
    if len(kept) == 1:
        return kept[0][2]
    return Fragment(equal_share([normalised(c[2], node.pos, "filter") for c in kept]))


def _trace(ev: Evaluator, node: Filter, scored: list[tuple[float, str]], kept: list[str]) -> None:
    if ev.steps is None:
        return
    ranking = ", ".join(f"{name} {number(score)}" for score, name in scored)
    count = "all" if node.count is None else str(node.count)
    ev.steps.step(
        node.pos,
        f"filter {node.metric.label('*')} select-{node.select} {count}: {ranking} "
        f"-> {', '.join(kept) or 'nothing'}",
    )


def _fragment_score(ev: Evaluator, metric: Indicator, fragment: Fragment) -> float | None:
    if fragment.group is None and len(fragment.weights) == 1:
        return _score(ev, metric, next(iter(fragment.weights)))
    if fragment.group is not None:
        score = _group_score(ev, metric, fragment.group)
        if score is not None:
            return score
    return _holdings_score(ev, metric, fragment)


def _dropped_for_volatility(
    ev: Evaluator, node: InverseVolatility, name: str, vol: float | None
) -> None:
    if ev.trace is not None and vol is not None:  # None: _score has said why already
        ev.trace.warn(node.pos, f"weight-inverse-volatility dropped {name}: volatility {vol}")


def _holdings_score(
    ev: Evaluator, metric: Indicator, fragment: Fragment, dropper: str = "filter"
) -> float | None:
    total = sum(fragment.weights.values())
    if not total > 0:
        return None
    acc = 0.0
    for symbol, weight in fragment.weights.items():
        score = _score(ev, metric, symbol, dropper)
        if score is None:
            return None
        acc += weight / total * score
    return acc


def group_weights(ev: Evaluator, group: Group, day: int) -> dict[str, float] | None:
    """Return the group's weights as of `day` (memoised per group and day; None if it fails)."""
    memo = ev.space.group_days.get(group)
    if memo is None:
        memo = ev.space.group_days[group] = {}
    if day not in memo:
        past = ev.at(day)
        try:
            memo[day] = normalised(past.group_result(group), group.pos, group.name)
        except SymphonyError:
            memo[day] = None
    return memo[day]


@lru_cache(maxsize=4096)
def _days(as_of: int, window: int) -> tuple[int, ...]:
    lookback = min(int(2.5 * window) + 10, MAX_LOOKBACK_DAYS)
    first = date.fromordinal(as_of) - timedelta(days=lookback)
    days = (first + timedelta(days=i) for i in range(lookback + 1))
    return tuple(d.toordinal() for d in days if d.weekday() < 5)


def group_returns(ev: Evaluator, group: Group, window: int) -> Stream | None:
    """Return the group's daily returns over the look-back, re-evaluating it on each day."""
    if group in ev.space.backfilling:
        return None  # the group is already being back-filled: it must not score itself
    key = (group, ev.day, window)
    streams = ev.space.return_streams
    if key not in streams:
        streams[key] = _returns(ev, group, window)
    return streams[key]


def _returns(ev: Evaluator, group: Group, window: int) -> Stream | None:
    # A day's return depends only on the weights held the weekday before (memoised per group
    # and day) and two closes, so it is computed once per run, not once per scoring date; the
    # days are consecutive weekdays, so (group, day) names it.
    space = ev.space
    known = space.group_days.get(group)
    if known is None:
        known = space.group_days[group] = {}
    memo = space.group_returns.get(group)
    if memo is None:
        memo = space.group_returns[group] = {}
    days = _days(ev.day, window)
    try:
        # A day's return is memoised only once the weights of that day and of the weekday
        # before are known (not None): with every return here, the stream is complete.
        return tuple(map(memo.__getitem__, days[1:]))
    except KeyError:
        pass
    returns: list[float] = []
    before: dict[str, float] | None = None
    before_day = 0
    space.backfilling.add(group)
    try:
        for day in days:
            held = known.get(day, _UNKNOWN)
            if held is _UNKNOWN:
                held = group_weights(ev, group, day)
            if held is None:
                return None  # one day without weights and the group has no score
            if before is not None:
                found = memo.get(day)
                if found is None:
                    found = memo[day] = _held_return(ev, before, before_day, day)
                returns.append(found)
            before, before_day = held, day
    finally:
        space.backfilling.discard(group)
    return tuple(returns)


def _held_return(ev: Evaluator, held: dict[str, float], prev_day: int, day: int) -> float:
    # Each symbol's move between the two days is worked out once per run: many groups hold
    # the same symbols on the same days.
    moves = ev.space.moves.get((prev_day, day))
    if moves is None:
        moves = ev.space.moves[prev_day, day] = {}
    earned, covered = 0.0, 0.0
    for symbol, weight in held.items():
        try:
            move = moves[symbol]
        except KeyError:
            move = moves[symbol] = _move(ev, symbol, prev_day, day)
        if move is None:
            continue
        earned += weight * move
        covered += weight
    return earned / covered if covered > 0 else 0.0


def _move(ev: Evaluator, symbol: str, prev_day: int, day: int) -> float | None:
    """Return a symbol's return from `prev_day` to `day`, None without a close on either."""
    hist = ev.book.history.get(symbol)
    now = hist.close_at(day) if hist else None
    before = hist.close_at(prev_day) if hist else None
    if now is None or before is None:
        return None
    return now / before - 1.0


def _group_score(ev: Evaluator, metric: Indicator, group: Group) -> float | None:
    if metric.kind not in GROUP_METRICS:
        return None
    window = metric.window or 10
    returns = group_returns(ev, group, window)
    if returns is None or len(returns) < max(3, window):
        return None
    return return_metric(metric.kind, returns[-window:])


def return_metric(kind: str, returns: Sequence[float]) -> float:
    """Apply a metric to a daily return stream (fractions), as the reference scores groups."""
    n = len(returns)
    if kind == "moving-average-return":
        return sum(returns) / n * 100.0
    if kind == "cumulative-return":
        return (math.prod(1.0 + r for r in returns) - 1.0) * 100.0
    if kind == "stdev-return":
        pct = [r * 100.0 for r in returns]
        mean = sum(pct) / n
        return math.sqrt(sum((x - mean) ** 2 for x in pct) / n) * ANNUALISE
    if kind == "max-drawdown":
        equity, peak, worst = 1.0, 1.0, 0.0
        for r in returns:
            equity *= 1.0 + r
            peak = max(peak, equity)
            worst = max(worst, 1.0 - equity / peak)
        return worst * 100.0
    return _wilder_rsi(returns)


def _wilder_rsi(returns: Sequence[float]) -> float:
    prices = [100.0]
    for r in returns:
        prices.append(prices[-1] * (1.0 + r))
    deltas = [b - a for a, b in pairwise(prices)]
    n = len(deltas)
    gain, loss = max(deltas[0], 0.0), max(-deltas[0], 0.0)
    for d in deltas[1:]:
        gain = (gain * (n - 1) + max(d, 0.0)) / n
        loss = (loss * (n - 1) + max(-d, 0.0)) / n
    if loss == 0:
        return 100.0 if gain > 0 else 50.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def inverse_volatility(ev: Evaluator, node: InverseVolatility) -> Value:
    """Weight groups (all children portfolios) or assets by 1/stdev-return(window)."""
    kids = children([ev.eval(a) for a in node.args])
    metric = node.metric
    parts: list[tuple[dict[str, float], float, str]] = []
    if kids and all(isinstance(k, Fragment) for k in kids):
        for kid in kids:
            assert isinstance(kid, Fragment)
            weights = normalised(kid, node.pos, "weight-inverse-volatility")
            vol = _holdings_score(ev, metric, Fragment(weights), "weight-inverse-volatility")
            name = kid.group.name if kid.group else ", ".join(weights)
            if vol is not None and vol > 0:
                parts.append((weights, vol, name))
            else:
                _dropped_for_volatility(ev, node, name, vol)
    else:
        for symbol in symbols_in(kids):
            vol = _score(ev, metric, symbol, "weight-inverse-volatility")
            if vol is not None and vol > 0:
                parts.append(({symbol: 1.0}, vol, symbol))
            else:
                _dropped_for_volatility(ev, node, symbol, vol)
    if not parts:
        raise fail("no asset has a positive volatility", node.pos, "weight-inverse-volatility")
    inverse_total = sum(1.0 / vol for _, vol, _ in parts)
    merged: dict[str, float] = {}
    for weights, vol, _ in parts:
        share = (1.0 / vol) / inverse_total
        for symbol, w in weights.items():
            merged[symbol] = merged.get(symbol, 0.0) + w * share
    if ev.steps is not None:
        shown = ", ".join(
            f"{name} vol {number(vol)} -> {number(100 / vol / inverse_total)}%"
            for _, vol, name in parts
        )
        ev.steps.step(node.pos, f"inverse volatility {node.window}: {shown}")
    return Fragment(merged)
