"""compute_signals with symphonies: engine + bar cache, per-strategy trace, failures by name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.keys import bars_key
from alchemiser.services.context import RunContext
from alchemiser.services.render import strategy_lines
from alchemiser.services.signals import compute_signals
from alchemiser.strategy.errors import StrategyFailedError
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO
from tests.fakes import FakeStore, WeekdayCalendar
from tests.marketdata.test_cache import CountingSource
from tests.strategy.symphony_gen import synthetic_bars

SESSION = date(2024, 6, 28)
RUN = RunContext(dag_id="d", run_id="manual__1", session=SESSION, session_source="param")
PAPER = ("SPY", "QQQ", "TQQQ", "TECL", "SOXL", "XLK", "BIL", "IEF", "TLT", "GLD")
BARS = synthetic_bars(PAPER, date(2022, 1, 3), SESSION)

SYMPHONY = """(defsymphony "s" {}
  (if (> (rsi "SPY" {:window 10}) 101) (asset "QQQ") (weight-equal [(asset "TLT") (asset "GLD")])))
"""


def _config(tmp_path: Path, symphony: str = SYMPHONY) -> Path:
    (tmp_path / "s.clj").write_text(symphony)
    path = tmp_path / "portfolio.yaml"
    path.write_text(
        "strategies:\n"
        "  - {name: core, kind: fixed, allocation: 0.5, weights: {SPY: 1}}\n"
        "  - {name: sym, kind: symphony, allocation: 0.5, path: s.clj}\n"
    )
    return path


def test_symphonies_are_evaluated_on_cached_bars_and_merged_with_their_trace(
    tmp_path: Path,
) -> None:
    store, source = FakeStore(), CountingSource(dict(BARS))
    ref = compute_signals(RUN, _config(tmp_path), store, source, WeekdayCalendar())
    targets = TargetAllocation.model_validate_json(store.get(ref.key))
    assert {w.symbol: w.weight for w in targets.weights} == {
        "GLD": Decimal("0.25"),
        "SPY": Decimal("0.5"),
        "TLT": Decimal("0.25"),
    }
    sym = targets.contributions[1]
    assert sym.kind == "symphony"
    assert sym.trace[0].where == "s.clj:2:3"
    assert "rsi(SPY, 10)=" in sym.trace[0].what
    assert bars_key("SPY") in store.objects
    text = "\n".join(strategy_lines(targets))
    assert "Why sym holds GLD, TLT:" in text


def test_a_failing_strategy_fails_the_task_with_its_name(tmp_path: Path) -> None:
    broken = '(defsymphony "s" {} (if (> (rsi "NOPE" {:window 10}) 1) (asset "QQQ") (asset "TLT")))'
    with pytest.raises(StrategyFailedError, match=r"strategy 'sym' failed: no bars for NOPE"):
        compute_signals(
            RUN,
            _config(tmp_path, broken),
            FakeStore(),
            CountingSource(dict(BARS)),
            WeekdayCalendar(),
        )
    with pytest.raises(StrategyFailedError, match=r"strategy 'sym' failed: s\.clj:1:1"):
        compute_signals(RUN, _config(tmp_path, "(defsymphony"), FakeStore(), CountingSource({}))


def test_symphonies_without_a_market_data_source_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="market-data source"):
        compute_signals(RUN, _config(tmp_path), FakeStore())


def test_the_default_portfolio_evaluates_on_paper_exchange_symbols() -> None:
    store = FakeStore()
    ref = compute_signals(
        RUN, DEFAULT_PORTFOLIO, store, CountingSource(dict(BARS)), WeekdayCalendar()
    )
    targets = TargetAllocation.model_validate_json(store.get(ref.key))
    assert "XLE" not in targets.symbols
    assert targets.weight_of("SPY") > 0
    assert any(c.kind == "symphony" and c.trace for c in targets.contributions)


FILTERED = """(defsymphony "s" {}
  (filter (rsi {:window 10}) (select-top 1) [(asset "QQQ") (asset "NODATA")]))
"""


def test_a_symbol_without_bars_fails_the_run_naming_symbol_and_strategy(tmp_path: Path) -> None:
    with pytest.raises(StrategyFailedError, match=r"strategy 'sym' failed: no bars for NODATA;"):
        compute_signals(
            RUN,
            _config(tmp_path, FILTERED),
            FakeStore(),
            CountingSource(dict(BARS)),
            WeekdayCalendar(),
        )


def test_a_strategy_that_allows_missing_data_runs_and_says_what_it_dropped(tmp_path: Path) -> None:
    config = _config(tmp_path, FILTERED)
    config.write_text(
        config.read_text().replace("path: s.clj}", "path: s.clj, allow_missing_data: true}")
    )
    seen: list[TargetAllocation] = []
    store = FakeStore()
    ref = compute_signals(
        RUN, config, store, CountingSource(dict(BARS)), WeekdayCalendar(), on_targets=seen.append
    )
    targets = TargetAllocation.model_validate_json(store.get(ref.key))
    assert seen == [targets]
    assert targets.contributions[1].warnings == (
        "no bars for NODATA: dropped wherever it is scored",
        "s.clj:2:11: filter dropped NODATA: no bars for NODATA",
    )
    text = "\n".join(strategy_lines(targets))  # the run report's text
    assert "  warning: s.clj:2:11: filter dropped NODATA: no bars for NODATA" in text


MONTHLY = """(defsymphony "s" {:rebalance-frequency :monthly}
  (filter (cumulative-return {:window 5}) (select-top 1)
          [(asset "QQQ") (asset "TLT") (asset "GLD")]))
"""


def test_a_monthly_symphony_keeps_what_it_holds_until_the_next_month(tmp_path: Path) -> None:
    store, config = FakeStore(), _config(tmp_path, MONTHLY)
    first = RunContext(dag_id="d", run_id="m1", session=date(2024, 6, 3), session_source="param")
    ref = compute_signals(first, config, store, CountingSource(dict(BARS)), WeekdayCalendar())
    bought = TargetAllocation.model_validate_json(store.get(ref.key)).contributions[1]
    assert bought.rebalanced
    assert "strategies/held/sym.json" in store.objects
    later = []
    for day in (date(2024, 6, 14), date(2024, 6, 28)):
        run = RunContext(dag_id="d", run_id=f"m{day}", session=day, session_source="param")
        ref = compute_signals(run, config, store, CountingSource(dict(BARS)), WeekdayCalendar())
        later.append(TargetAllocation.model_validate_json(store.get(ref.key)).contributions[1])
    assert not any(c.rebalanced for c in later)
    assert all({w.symbol for w in c.weights} == {w.symbol for w in bought.weights} for c in later)
    assert later[-1].trace[0].what.startswith("holding: last rebalanced 2024-06-03 (monthly")


def test_a_replay_keeps_its_own_holdings_and_never_rolls_the_live_state_back(
    tmp_path: Path,
) -> None:
    store, config = FakeStore(), _config(tmp_path, MONTHLY)
    live = RunContext(dag_id="d", run_id="live", session=date(2024, 6, 28), session_source="param")
    compute_signals(live, config, store, CountingSource(dict(BARS)), WeekdayCalendar())
    kept = store.objects["strategies/held/sym.json"]
    # A backfill of May, in order: the first session trades, the later ones hold its weights.
    replayed = []
    for day in (date(2024, 5, 1), date(2024, 5, 15), date(2024, 5, 31)):
        run = RunContext(dag_id="d", run_id=f"b{day}", session=day, session_source="logical_date")
        ref = compute_signals(
            run, config, store, CountingSource(dict(BARS)), WeekdayCalendar(), replay=True
        )
        replayed.append(TargetAllocation.model_validate_json(store.get(ref.key)).contributions[1])
    assert [c.rebalanced for c in replayed] == [True, False, False]
    assert replayed[2].trace[0].what.startswith("holding: last rebalanced 2024-05-01 (monthly")
    assert store.objects["strategies/held/sym.json"] == kept
    assert store.list_keys("replay/held/") == tuple(
        f"replay/held/{d}.json" for d in ("2024-05-01", "2024-05-15", "2024-05-31")
    )
    # Replaying a session again reads the state before it, as the first time did.
    again = RunContext(
        dag_id="d", run_id="again", session=date(2024, 5, 15), session_source="param"
    )
    ref = compute_signals(
        again, config, store, CountingSource(dict(BARS)), WeekdayCalendar(), replay=True
    )
    assert TargetAllocation.model_validate_json(store.get(ref.key)).contributions[1] == replayed[1]
