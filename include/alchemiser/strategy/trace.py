"""The decision trace: which branches an evaluation took, and the numbers that decided them."""

from __future__ import annotations

from dataclasses import dataclass, field

from alchemiser.strategy.errors import SourcePos


@dataclass(frozen=True, slots=True)
class Step:
    """One decision: where it is in the file and what decided it."""

    where: SourcePos
    text: str


@dataclass(slots=True)
class Trace:
    """Steps and warnings of one evaluation, in the order they happened."""

    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def step(self, where: SourcePos, text: str) -> None:
        """Record a decision."""
        self.steps.append(Step(where, text))

    def warn(self, where: SourcePos, text: str) -> None:
        """Record a substituted value, once per distinct message."""
        message = f"{where}: {text}"
        if message not in self.warnings:
            self.warnings.append(message)


def number(value: float) -> str:
    """Format an indicator value for people: 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
