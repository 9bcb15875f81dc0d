"""The front door of the language: load a symphony file once, evaluate it on many days."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from alchemiser.strategy.book import IndicatorBook
from alchemiser.strategy.compiler import compile_symphony
from alchemiser.strategy.errors import SourcePos, SymphonySyntaxError
from alchemiser.strategy.evaluator import Evaluation, Workspace, evaluate
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import Symphony
from alchemiser.strategy.reader import DEFAULT_LIMITS, ReadLimits, read_one

RECURSION_LIMIT = 20_000
"""Compiling and walking use ~3 Python frames per nesting level; the reader allows 400 levels
and group scoring nests evaluations, so the interpreter's default of 1000 is not enough."""


def _allow_deep_nesting() -> None:
    # Only ever raised, never lowered: other code may have asked for more already.
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a syntax tree is built and compiled.

    The tree is acyclic (a node refers only to its children) and reference counting frees it
    the moment compiling returns, so the collector can find nothing in it; yet a large file
    is tens of thousands of tracked objects, which the collector would scan several times and
    move to its oldest generation, bringing on a full collection (hundreds of milliseconds in a
    process that has loaded Airflow). Mercurial's `util.nogc` does the same for the same reason.
    Only re-enabled if it was enabled: a caller that turned it off keeps it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_symphony(
    text: str, file: str = "<string>", limits: ReadLimits = DEFAULT_LIMITS
) -> Symphony:
    """Read and compile symphony text."""
    _allow_deep_nesting()
    with _no_cycle_collection():
        return compile_symphony(read_one(text, file, limits), file)


def load_symphony(
    path: Path, limits: ReadLimits = DEFAULT_LIMITS, label: str | None = None
) -> Symphony:
    """Read and compile a symphony file; an unreadable file is a SymphonySyntaxError too.

    `label` is the file name errors and traces show (default: the path as given).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymphonySyntaxError(
            f"cannot read symphony file: {exc}", SourcePos(str(path), 1, 1), path.name
        ) from exc
    return parse_symphony(text, label or str(path), limits)


class Engine:
    """Evaluates symphonies over one price history, sharing every series it computes."""

    def __init__(self, history: PriceHistory) -> None:
        self.history = history
        self.space = Workspace(IndicatorBook(history))

    def evaluate(self, symphony: Symphony, as_of: date, *, explain: bool = True) -> Evaluation:
        """Return the symphony's weights as of `as_of` (only bars dated on or before it)."""
        _allow_deep_nesting()
        return evaluate(symphony, self.space, as_of, explain=explain)
