"""Python strategies: point-in-time by construction, validated like symphonies, named errors."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.strategy.errors import StrategyFailedError
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.portfolio import LoadedPortfolio, allocate_portfolio, load_portfolio
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO, load_portfolio_config
from alchemiser.strategy.python import BarView
from alchemiser.strategy.symphony import Engine
from tests.strategy.symphony_gen import synthetic_closes

AS_OF = date(2024, 6, 28)
SPIKE = 987654.25  # a close that exists only after the as-of date
START = AS_OF - timedelta(days=400)
CLOSES = synthetic_closes(["SPY", "QQQ", "BRK.B", "GLD", "BIL"], START, AS_OF)


def _history(with_future: bool = True) -> PriceHistory:
    closes: dict[str, list[tuple[date, Decimal | float]]] = {
        s: list(rows) for s, rows in CLOSES.items()
    }
    if with_future:
        for rows in closes.values():
            rows.append((AS_OF + timedelta(days=3), SPIKE))
    return PriceHistory.from_closes(closes)


def _load(tmp_path: Path, code: str, function: str = "weights") -> LoadedPortfolio:
    (tmp_path / "strat.py").write_text(code)
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "strategies:\n"
        f"  - {{name: py, kind: python, allocation: 1, path: strat.py, function: {function}}}\n"
    )
    return load_portfolio(load_portfolio_config(config), config)


def _run(tmp_path: Path, code: str, function: str = "weights") -> TargetAllocation:
    return allocate_portfolio(_load(tmp_path, code, function), Engine(_history()), AS_OF, "t")


def test_the_example_strategy_runs_from_a_portfolio_with_its_trace(tmp_path: Path) -> None:
    source = DEFAULT_PORTFOLIO.parent / "python" / "dual_momentum.py"
    (tmp_path / "dual_momentum.py").write_text(source.read_text())
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "strategies:\n  - {name: dm, kind: python, allocation: 1, path: dual_momentum.py}\n"
    )
    portfolio = load_portfolio(load_portfolio_config(config), config)
    assert portfolio.symbols == ("BIL", "BRK.B", "GLD", "QQQ", "SPY")
    targets = allocate_portfolio(portfolio, Engine(_history()), AS_OF, "t")
    (contribution,) = targets.contributions
    assert contribution.kind == "python"
    assert sum(w.weight for w in contribution.weights) == 1
    (step,) = contribution.trace
    assert step.where.startswith("dual_momentum.py:")
    assert "60-session momentum: " in step.what


LEAK_PROBE = """
import gc
import numpy as np

SYMBOLS = ("SPY",)
SEEN = []

def weights(view):
    # Everything the view can reach: its arrays, their bases, and whatever they refer to.
    stack, seen = [view], set()
    while stack:
        item = stack.pop()
        if id(item) in seen or len(seen) > 20000:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            SEEN.append(float(item.max()) if item.dtype.kind == "f" and item.size else 0.0)
            if item.base is not None:
                stack.append(item.base)
            continue
        if isinstance(item, (dict, list, tuple)) or hasattr(item, "__slots__"):
            stack.extend(gc.get_referents(item))
    closes = view.closes("SPY")
    try:
        closes[-1] = 0.0
    except ValueError:
        SEEN.append("read-only")
    SEEN.append(("last", view.dates("SPY")[-1].isoformat(), float(closes[-1])))
    return {"SPY": 1}
"""


def test_a_python_strategy_cannot_see_a_bar_after_the_as_of_date(tmp_path: Path) -> None:
    portfolio = _load(tmp_path, LEAK_PROBE)
    allocate_portfolio(portfolio, Engine(_history()), AS_OF, "t")
    seen = portfolio.python["py"].function.__globals__["SEEN"]
    floats = [x for x in seen if isinstance(x, float)]
    assert floats  # the probe did reach the closes...
    assert SPIKE not in floats  # ...but never the bar after the as-of date
    assert "read-only" in seen
    assert seen[-1] == ("last", AS_OF.isoformat(), float(CLOSES["SPY"][-1][1]))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ('{"SPY": 0.5}', "weights sum to 0.5, not 1"),
        ('{"SPY": 1.5, "QQQ": -0.5}', "weight of QQQ is -0.5, not >= 0"),
        ('{"SPY": float("nan")}', "weight of SPY is nan"),
        ('{"TSLA": 1}', "weight for TSLA, which is not in SYMBOLS"),
        ("[1]", "must return a non-empty mapping"),
        ('{"SPY": "lots"}', "weight of SPY is 'lots'"),
    ],
)
def test_invalid_weights_fail_naming_the_strategy(
    tmp_path: Path, answer: str, message: str
) -> None:
    code = f'SYMBOLS = ("SPY", "QQQ")\ndef weights(view):\n    return {answer}\n'
    with pytest.raises(StrategyFailedError, match=r"strategy 'py' failed: strat\.py: ") as err:
        _run(tmp_path, code)
    assert message in str(err.value)


def test_an_exception_in_the_strategy_names_it_and_the_line(tmp_path: Path) -> None:
    code = 'SYMBOLS = ("SPY",)\ndef weights(view):\n    return {"SPY": 1 / 0}\n'
    with pytest.raises(
        StrategyFailedError, match=r"'py' failed: strat\.py:3: ZeroDivisionError: division by zero"
    ):
        _run(tmp_path, code)
    code = 'SYMBOLS = ("SPY",)\ndef weights(view):\n    return {"SPY": view.closes("QQQ")[-1]}\n'
    with pytest.raises(StrategyFailedError, match=r"strat\.py:3: LookupError: no bars for QQQ on"):
        _run(tmp_path, code)


@pytest.mark.parametrize(
    ("code", "function", "message"),
    [
        ("def weights(view):\n    return {}\n", "weights", "SYMBOLS must be a tuple"),
        ('SYMBOLS = ("SPY",)\n', "weights", "defines no function 'weights'"),
        ('SYMBOLS = ("SPY",)\ndef f(:\n', "weights", "cannot load: SyntaxError"),
        ('SYMBOLS = ("SPY",)\ndef go(v):\n    return {"SPY": 1}\n', "other", "no function 'other'"),
    ],
)
def test_a_broken_file_fails_when_loaded(
    tmp_path: Path, code: str, function: str, message: str
) -> None:
    with pytest.raises(StrategyFailedError, match=r"strategy 'py' failed: strat\.py") as err:
        _run(tmp_path, code, function)
    assert message in str(err.value)


def test_the_view_holds_only_declared_symbols_up_to_the_as_of_date() -> None:
    view = BarView(_history(), frozenset({"SPY", "NOPE"}), AS_OF, "x.py")
    assert view.symbols == ("SPY",)
    assert not view.has("QQQ")
    assert np.all(view.closes("SPY") < SPIKE)
