"""Composer's rebalance settings: when a strategy trades, and what it holds in between.

`:rebalance-frequency` trades on the first session of each period (a run on a later session of
a period whose first session was missed trades then); `:rebalance-threshold` trades when the
strategy's drift, the largest absolute difference between what it holds (its last traded
weights moved with prices since) and what it now wants, exceeds the band. With both, either
triggers. A strategy that does not trade contributes what it holds, so the portfolio plan
leaves its positions alone. Pure: state (`Held`) goes in and comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from alchemiser.domain.allocation import (
    DecisionStep,
    StrategyContribution,
    TargetAllocation,
    merge_contributions,
    weights_from_mapping,
)
from alchemiser.strategy.errors import SourcePos
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import Frequency, RebalanceRule
from alchemiser.strategy.values import final_weights


@dataclass(frozen=True, slots=True)
class Held:
    """What a strategy traded at its last rebalance: the session and its weights."""

    session: date
    weights: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a strategy trades today, the weights it contributes, and why."""

    rebalance: bool
    weights: dict[str, Decimal]
    held: Held
    reason: str


def period(frequency: Frequency, day: date) -> tuple[int, ...]:
    """Return the calendar period `day` falls in (ISO weeks, quarters...)."""
    if frequency == "weekly":
        iso = day.isocalendar()
        return (iso.year, iso.week)
    if frequency == "monthly":
        return (day.year, day.month)
    if frequency == "quarterly":
        return (day.year, (day.month - 1) // 3)
    if frequency == "yearly":
        return (day.year,)
    return (day.toordinal(),)


def drifted(held: Held, history: PriceHistory, as_of: date) -> dict[str, Decimal]:
    """Return the held weights moved with each symbol's close from `held.session` to `as_of`."""
    then, now = held.session.toordinal(), as_of.toordinal()
    values: dict[str, float] = {}
    for symbol, weight in held.weights.items():
        series = history.get(symbol)
        before = series.close_at(then) if series else None
        after = series.close_at(now) if series else None
        growth = after / before if before and after else 1.0  # no price: it did not move
        values[symbol] = float(weight) * growth
    return final_weights(values, SourcePos("<held>", 1, 1))


def decide(
    rule: RebalanceRule,
    held: Held | None,
    target: Mapping[str, Decimal],
    history: PriceHistory,
    as_of: date,
) -> Decision:
    """Return whether the strategy rebalances as of `as_of` and the weights it contributes."""
    wanted = dict(target)
    if held is None or held.session >= as_of or rule.every_session:
        why = "first rebalance" if held is None else "rebalances every session"
        return Decision(True, wanted, Held(as_of, wanted), why)
    holding = drifted(held, history, as_of)
    drift = max(
        (abs(holding.get(s, Decimal(0)) - wanted.get(s, Decimal(0))) for s in {*holding, *wanted}),
        default=Decimal(0),
    )
    reasons: list[str] = []
    if rule.frequency != "none" and period(rule.frequency, as_of) != period(
        rule.frequency, held.session
    ):
        reasons.append(f"first {rule.frequency} session since {held.session}")
    if rule.threshold is not None and drift > rule.threshold:
        reasons.append(f"drift {drift:.2%} > threshold {rule.threshold:.2%}")
    if reasons:
        return Decision(True, wanted, Held(as_of, wanted), "; ".join(reasons))
    band = f", drift {drift:.2%} <= threshold {rule.threshold:.2%}" if rule.threshold else ""
    why = f"holding: last rebalanced {held.session} ({rule.frequency}{band})"
    return Decision(False, holding, held, why)


def apply_rebalance(
    targets: TargetAllocation,
    rules: Mapping[str, RebalanceRule],
    held: Mapping[str, Held],
    history: PriceHistory,
) -> tuple[TargetAllocation, dict[str, Held]]:
    """Apply each ruled strategy's settings to `targets`; return them and what each now holds.

    Strategies without a rule pass through. A replay calls this once per session, feeding the
    returned holdings into the next call.
    """
    parts: list[StrategyContribution] = []
    holding: dict[str, Held] = {}
    for part in targets.contributions:
        rule = rules.get(part.strategy)
        if rule is None:
            parts.append(part)
            continue
        wanted = {w.symbol: w.weight for w in part.weights}
        decision = decide(rule, held.get(part.strategy), wanted, history, targets.as_of)
        holding[part.strategy] = decision.held
        step = DecisionStep(where=f"{part.strategy}:rebalance", what=decision.reason)
        fields = part.model_dump() | {
            "weights": weights_from_mapping(decision.weights),
            "trace": (step, *part.trace),
            "rebalanced": decision.rebalance,
        }
        parts.append(StrategyContribution.model_validate(fields))
    merged = targets.model_dump() | {
        "contributions": tuple(parts),
        "weights": merge_contributions(parts),
    }
    return TargetAllocation.model_validate(merged), holding
