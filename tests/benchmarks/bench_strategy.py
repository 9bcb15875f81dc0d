"""Symphony engine speed: parse and evaluate time by size, and a 5-year daily replay.

Random symphonies come from a seeded generator (tests/strategy/symphony_gen.py) with nested
group filters; prices are a seeded synthetic walk on every weekday 2016-2025. "Warm" means the
indicator series are computed already (the engine is reused), which is how a replay or a second
as-of date runs. With `--symphonies DIR` (or ALCHEMISER_BENCH_SYMPHONIES), every *.clj in DIR
is also checked: it must evaluate at every quarter-end 2021-2025 with weights summing to 1,
within 2 ms warm, and the whole set must replay 5 years daily within 10 s.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from alchemiser.strategy.errors import SymphonyError
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.nodes import Symphony
from alchemiser.strategy.reader import read_forms
from alchemiser.strategy.symphony import Engine, load_symphony, parse_symphony
from tests.benchmarks import BenchContext, BenchmarkFailedError, Row
from tests.strategy.symphony_gen import UNIVERSE, SymphonyGenerator, synthetic_closes, weekdays

SYMPHONIES_ENV = "ALCHEMISER_BENCH_SYMPHONIES"
SIZES = (1_000, 10_000, 30_000)
AS_OF = date(2025, 6, 30)
LARGE_TARGET_MS = 1000.0
SHARED_TARGET_MS = 2.0
REPLAY_TARGET_S = 10.0
QUARTER_ENDS = [
    date(y, m, d) for y in range(2021, 2026) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))
]
REPLAY_DAYS = weekdays(date(2021, 1, 1), date(2025, 12, 31))


def _history(symbols: set[str]) -> PriceHistory:
    return PriceHistory.from_closes(
        synthetic_closes(sorted(symbols), date(2016, 1, 4), date(2025, 12, 31))
    )


def _ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _count_nodes(text: str) -> int:
    count, stack = 0, list(read_forms(text))
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(getattr(node, "items", ()))
    return count


def _sizes(ctx: BenchContext, history: PriceHistory) -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        text = SymphonyGenerator(seed=size).symphony(size)
        nodes = _count_nodes(text)
        started = time.perf_counter()
        symphony = parse_symphony(text, f"random-{size}.clj")
        parse_ms = (time.perf_counter() - started) * 1000
        engine = Engine(history)
        started = time.perf_counter()
        engine.evaluate(symphony, date(2025, 6, 27))
        cold_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        engine.evaluate(symphony, AS_OF)  # warm series, a new day: tree walk + group back-fill
        new_day_ms = (time.perf_counter() - started) * 1000
        same_day_ms = _ms(partial(engine.evaluate, symphony, AS_OF), ctx.repeat)
        label = f"{nodes} nodes"
        rows += [
            {"metric": f"parse {label}", "value": round(parse_ms, 2), "unit": "ms"},
            {"metric": f"evaluate cold {label}", "value": round(cold_ms, 2), "unit": "ms"},
            {
                "metric": f"evaluate warm, new day {label}",
                "value": round(new_day_ms, 2),
                "unit": "ms",
                "target": f"<= {LARGE_TARGET_MS:g} ms",
                "ok": new_day_ms <= LARGE_TARGET_MS,
            },
            {
                "metric": f"evaluate warm, same day {label}",
                "value": round(same_day_ms, 3),
                "unit": "ms",
                "target": f"<= {LARGE_TARGET_MS:g} ms",
                "ok": same_day_ms <= LARGE_TARGET_MS,
            },
        ]
    return rows


def _replay(symphonies: list[Symphony], history: PriceHistory, label: str) -> list[Row]:
    engine = Engine(history)
    started = time.perf_counter()
    for day in REPLAY_DAYS:
        for symphony in symphonies:
            engine.evaluate(symphony, day)
    seconds = time.perf_counter() - started
    return [
        {
            "metric": f"5-year daily replay, {label} ({len(REPLAY_DAYS)} days, cold start)",
            "value": round(seconds, 2),
            "unit": "s",
            "target": f"<= {REPLAY_TARGET_S:g} s",
            "ok": seconds <= REPLAY_TARGET_S,
        }
    ]


def _shared(ctx: BenchContext, folder: Path) -> list[Row]:
    files = sorted(folder.glob("*.clj"))
    if not files:
        raise BenchmarkFailedError(f"no *.clj files in {folder}")
    symphonies = [load_symphony(f, label=f.name) for f in files]
    history = _history(set().union(*(s.symbols for s in symphonies)))
    rows: list[Row] = []
    engine = Engine(history)
    failures: list[str] = []
    for symphony in symphonies:
        for day in QUARTER_ENDS:
            try:
                total = sum(engine.evaluate(symphony, day).weights.values())
            except SymphonyError as exc:
                failures.append(f"{day}: {exc}")
                continue
            if total != 1:
                failures.append(f"{symphony.source} {day}: weights sum to {total}")
    rows.append(
        {
            "metric": f"quarter-ends 2021-2025 x {len(files)} symphonies evaluate, sum 1",
            "value": failures[:3] if failures else [f"{len(files) * len(QUARTER_ENDS)} ok"],
            "unit": "",
            "ok": not failures,
        }
    )
    for symphony in symphonies:
        warm = _ms(partial(engine.evaluate, symphony, AS_OF), max(ctx.repeat, 20))
        rows.append(
            {
                "metric": f"evaluate warm {symphony.source}",
                "value": round(warm, 3),
                "unit": "ms",
                "target": f"<= {SHARED_TARGET_MS:g} ms",
                "ok": warm <= SHARED_TARGET_MS,
            }
        )
    return rows + _replay(symphonies, history, f"{len(files)} symphonies from {folder.name}")


def run(ctx: BenchContext) -> list[Row]:
    """Time parsing and evaluation by size, the repo's examples, and optional real files."""
    rows = _sizes(ctx, _history(set(UNIVERSE)))
    examples = sorted((ctx.root / "include" / "strategies").rglob("*.clj"))
    own = [load_symphony(p, label=p.name) for p in examples]
    generated = [parse_symphony(SymphonyGenerator(seed=s).symphony(300)) for s in range(5)]
    symbols = set(UNIVERSE).union(*(s.symbols for s in own))
    rows += _replay(own + generated, _history(symbols), "examples + 5 generated (300 nodes)")
    folder = os.environ.get(SYMPHONIES_ENV)
    if folder:
        rows += _shared(ctx, Path(folder))
    return rows
