"""Python strategies: a function from a point-in-time view of the bars to weights.

The guarantees match a symphony's. The function is handed a `BarView` holding read-only copies
of each symbol's closes dated on or before the as-of date and nothing else (no reference to
the full history), so look-ahead is impossible by construction. Its answer is validated like a
symphony's root (finite, >= 0, summing to 1, only symbols the module declares in `SYMBOLS`),
and every failure names the strategy and the line of its file.
"""

from __future__ import annotations

import importlib.util
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import numpy as np

from alchemiser.domain.errors import StrategyError
from alchemiser.domain.symbols import canonical
from alchemiser.strategy.errors import SourcePos
from alchemiser.strategy.history import FloatArray, IntArray, PriceHistory
from alchemiser.strategy.trace import Trace
from alchemiser.strategy.values import final_weights

SUM_TOLERANCE = 1e-6
"""A Python strategy's weights must sum to 1 within this (they are then normalised exactly)."""

USER_ERRORS = (
    ArithmeticError,
    LookupError,
    ValueError,
    TypeError,
    AttributeError,
    AssertionError,
    RuntimeError,
)
"""What a strategy's own code raises when it is wrong; re-raised naming the strategy."""


class PythonStrategyError(StrategyError):
    """A Python strategy could not be loaded, failed, or answered with invalid weights."""


class BarView:
    """Each declared symbol's closes on or before `as_of`: read-only copies, oldest first."""

    __slots__ = ("_closes", "_dates", "_file", "_trace", "as_of")

    def __init__(self, history: PriceHistory, symbols: frozenset[str], as_of: date, file: str):
        self.as_of = as_of
        self._file = file
        self._trace = Trace()
        self._closes: dict[str, FloatArray] = {}
        self._dates: dict[str, IntArray] = {}
        day = as_of.toordinal()
        for symbol in sorted(symbols):
            found = history.get(symbol)
            n = found.count_until(day) if found is not None else 0
            if found is None or n == 0:
                continue
            # Copies, not slices: a slice's `.base` would reach the bars after the as-of date.
            self._closes[symbol] = _frozen(found.close[:n].copy())
            self._dates[symbol] = _frozen(found.dates[:n].copy())

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the declared symbols that have bars on or before the as-of date, sorted."""
        return tuple(self._closes)

    def has(self, symbol: str) -> bool:
        """Return whether `symbol` has bars on or before the as-of date."""
        return canonical(symbol) in self._closes

    def closes(self, symbol: str) -> FloatArray:
        """Return the symbol's daily closes (float64, read-only), the as-of close last."""
        key = canonical(symbol)
        if key not in self._closes:
            raise LookupError(f"no bars for {key} on or before {self.as_of} (is it in SYMBOLS?)")
        return self._closes[key]

    def dates(self, symbol: str) -> list[date]:
        """Return the dates of the symbol's closes."""
        self.closes(symbol)  # the same error for an unknown symbol
        return [date.fromordinal(int(d)) for d in self._dates[canonical(symbol)]]

    def explain(self, text: str) -> None:
        """Record a decision in the trace, at the calling line of the strategy's file."""
        self._trace.step(self._caller(), text)

    def warn(self, text: str) -> None:
        """Record a warning (a substituted value, a dropped candidate)."""
        self._trace.warn(self._caller(), text)

    def _caller(self) -> SourcePos:
        frame = traceback.extract_stack(limit=3)[0]
        return SourcePos(self._file, frame.lineno or 1, 1)


def _frozen(values: np.ndarray) -> np.ndarray:  # float or int arrays
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class PythonCode:
    """A loaded strategy module: its declared symbols and its weights function."""

    name: str
    file: str
    symbols: frozenset[str]
    function: Callable[[BarView], object]


def load_python(name: str, path: Path, function: str, label: str) -> PythonCode:
    """Import a strategy file; it must define `SYMBOLS` and the function `function`."""
    spec = importlib.util.spec_from_file_location(f"alchemiser_strategy_{name}", path)
    if spec is None or spec.loader is None:
        raise PythonStrategyError(f"{label}: not a Python file")
    module: ModuleType = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (OSError, SyntaxError, ImportError, *USER_ERRORS) as exc:
        raise PythonStrategyError(f"{label}: cannot load: {type(exc).__name__}: {exc}") from exc
    declared = getattr(module, "SYMBOLS", None)
    if not isinstance(declared, tuple | list | frozenset | set) or not all(
        isinstance(s, str) for s in declared
    ):
        raise PythonStrategyError(f"{label}: SYMBOLS must be a tuple of ticker strings")
    fn = getattr(module, function, None)
    if not callable(fn):
        raise PythonStrategyError(f"{label}: defines no function {function!r}")
    return PythonCode(name, label, frozenset(canonical(s) for s in declared), fn)


@dataclass(frozen=True)
class PythonEvaluation:
    """A Python strategy's weights as of a day, and its trace."""

    as_of: date
    weights: dict[str, Decimal]
    trace: Trace


def evaluate_python(code: PythonCode, history: PriceHistory, as_of: date) -> PythonEvaluation:
    """Call the strategy on the bars up to `as_of` and validate its weights."""
    view = BarView(history, code.symbols, as_of, code.file)
    try:
        answer = code.function(view)
    except USER_ERRORS as exc:
        raise PythonStrategyError(f"{_where(exc, code.file)}: {type(exc).__name__}: {exc}") from exc
    return PythonEvaluation(as_of, _validated(code, answer), view._trace)


def _where(exc: BaseException, file: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(file)]
    return f"{file}:{frames[-1].lineno}" if frames else file


def _validated(code: PythonCode, answer: object) -> dict[str, Decimal]:
    if not isinstance(answer, Mapping) or not answer:
        raise PythonStrategyError(f"{code.file}: must return a non-empty mapping symbol -> weight")
    weights: dict[str, float] = {}
    for raw, value in answer.items():
        symbol = canonical(str(raw))
        if symbol not in code.symbols:
            raise PythonStrategyError(f"{code.file}: weight for {symbol}, which is not in SYMBOLS")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise PythonStrategyError(f"{code.file}: weight of {symbol} is {value!r}") from exc
        if not math.isfinite(number) or number < 0:
            raise PythonStrategyError(f"{code.file}: weight of {symbol} is {value!r}, not >= 0")
        weights[symbol] = weights.get(symbol, 0.0) + number
    total = sum(weights.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise PythonStrategyError(f"{code.file}: weights sum to {total}, not 1")
    return final_weights(weights, SourcePos(code.file, 1, 1))
