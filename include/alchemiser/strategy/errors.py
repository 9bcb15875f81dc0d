"""The errors a symphony can raise: each names file:line:col and the offending token."""

from __future__ import annotations

from typing import NamedTuple

from alchemiser.domain.errors import StrategyError


class SourcePos(NamedTuple):
    """Where a token starts in a symphony file (1-based line and column).

    A named tuple rather than a frozen dataclass: the reader makes one per token, and a tuple is
    built several times faster (tens of thousands in a large file).
    """

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SymphonyError(StrategyError):
    """A symphony failed; `pos` and `token` say where and on what."""

    def __init__(self, message: str, pos: SourcePos, token: str) -> None:
        super().__init__(f"{pos}: {message} (at {token!r})")
        self.pos = pos
        self.token = token
        self.reason = message


class SymphonySyntaxError(SymphonyError):
    """The text is not a well-formed symphony: bad token, unbalanced bracket, bad operator use."""


class SymphonyLimitError(SymphonySyntaxError):
    """The file is too large or nested too deeply to read safely."""


class SymphonyEvaluationError(SymphonyError):
    """A well-formed symphony could not be evaluated (an `if` without else, nothing selected)."""


class SymphonyDataError(SymphonyEvaluationError):
    """An indicator lacks the bars it needs (unknown symbol, too little history)."""


class StrategyFailedError(StrategyError):
    """One strategy of a portfolio failed; the message starts with its name."""

    def __init__(self, strategy: str, cause: Exception) -> None:
        super().__init__(f"strategy {strategy!r} failed: {cause}")
        self.strategy = strategy
