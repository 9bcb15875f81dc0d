"""The sanity gate on signals: a target allocation that moves too much of the book at once
compared with the last traded session needs `force` to trade."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.types import Frozen, Weight


class SignalGateError(AlchemiserError):
    """The new targets differ from the last traded ones by more than the gate allows."""


class SignalGate(Frozen):
    """How far targets may move between sessions without `force`."""

    max_change: Weight = Field(
        default=Decimal("0.9"),
        description="half the sum of absolute weight changes (0 = identical, 1 = disjoint)",
    )


def weight_change(new: TargetAllocation, old: TargetAllocation) -> Decimal:
    """Return half the L1 distance between two allocations: the share of the book that moves."""
    symbols = set(new.symbols) | set(old.symbols)
    return sum((abs(new.weight_of(s) - old.weight_of(s)) for s in symbols), Decimal(0)) / 2


def check_targets(
    new: TargetAllocation, last: TargetAllocation | None, gate: SignalGate, force: bool
) -> None:
    """Raise SignalGateError when the change is over the gate and `force` is not set."""
    if last is None or force:
        return
    change = weight_change(new, last)
    if change > gate.max_change:
        raise SignalGateError(
            f"targets for {new.as_of} move {change:.1%} of the book versus the last traded "
            f"session {last.as_of} (gate {gate.max_change:.0%}); nothing placed. Check the "
            "signals, then trigger again with force=true to trade them"
        )
