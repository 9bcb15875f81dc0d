"""The promises of the columnar data path (issue 12): cold evaluations, the CLI, memory.

Prices are five years of a seeded walk on weekdays, written as a CSV folder and read by the
columnar reader (`marketdata.columns`), whose time is its own row: "reading files" is outside
the evaluation targets, and the reader is where bars become arrays. "Cold" is a fresh parse and a
fresh engine (no indicator series computed); "warm, another date" reuses the engine on the next
weekday. Files come from `--symphonies DIR` (ALCHEMISER_BENCH_SYMPHONIES) and the repository's
examples; the 15,000-node file is the generator's (seed 10000). Memory and the CLI are measured
in fresh processes.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

from alchemiser.marketdata.columns import read_csv_history
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.symphony import Engine, parse_symphony
from tests.benchmarks import BenchContext, BenchmarkFailedError, Row
from tests.benchmarks.bench_strategy import SYMPHONIES_ENV
from tests.strategy.symphony_gen import UNIVERSE, SymphonyGenerator, synthetic_closes

START, AS_OF = date(2021, 1, 4), date(2025, 12, 31)
SMALL_LINES = 1_000
SMALL_COLD_MS = 10.0
LARGE_COLD_MS = 500.0
LARGE_WARM_MS = 50.0
CLI_WALL_S = 1.0
MEMORY_SYMBOLS = 400
MEMORY_TARGET_MB = 100.0
LARGE_SEED = 10_000
LARGE_COLD_RUNS = 3

_MEMORY_PROBE = """
import sys, tracemalloc
from pathlib import Path
from alchemiser.marketdata.columns import read_csv_history
folder = Path(sys.argv[1])
tracemalloc.start()
history = read_csv_history(folder, [p.stem for p in folder.glob("*.csv")])
held, peak = tracemalloc.get_traced_memory()
print(len(history.symbols), held / 2**20, peak / 2**20)
"""


def write_prices(folder: Path, symbols: Iterable[str]) -> Path:
    """Write five years of the seeded walk as `<SYMBOL>.csv` files (a share class as BRK_B)."""
    folder.mkdir(parents=True, exist_ok=True)
    for symbol, rows in synthetic_closes(sorted(set(symbols)), START, AS_OF).items():
        lines = [f"{d},{c},{c},{c},{c},1000" for d, c in rows]
        text = "date,open,high,low,close,volume\n" + "\n".join(lines) + "\n"
        (folder / f"{symbol.replace('.', '_')}.csv").write_text(text)
    return folder


def _full_collection_timer(
    durations: list[float],
) -> Callable[[str, dict[str, int]], None]:
    """Return a `gc.callbacks` hook that appends each full collection's milliseconds."""
    started = 0.0

    def watch(phase: str, info: dict[str, int]) -> None:
        nonlocal started
        if info["generation"] != 2:
            return
        if phase == "start":
            started = time.perf_counter()
        else:
            durations.append((time.perf_counter() - started) * 1000)

    return watch


def _cold_ms(text: str, history: PriceHistory, repeat: int) -> tuple[float, float]:
    """Return the median wall and CPU milliseconds of a fresh parse and engine."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        Engine(history).evaluate(parse_symphony(text), AS_OF)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _small_files(ctx: BenchContext) -> list[Path]:
    files = sorted((ctx.root / "include" / "strategies").rglob("*.clj"))
    folder = os.environ.get(SYMPHONIES_ENV)
    if folder:
        files += sorted(Path(folder).glob("*.clj"))
    return [f for f in files if len(f.read_text().splitlines()) < SMALL_LINES]


def _check(metric: str, value: float, unit: str, limit: float) -> Row:
    return {
        "metric": metric,
        "value": round(value, 2),
        "unit": unit,
        "target": f"<= {limit:g} {unit}",
        "ok": value <= limit,
    }


def _cli(ctx: BenchContext, strategy: Path, prices: Path) -> Row:
    argv = [sys.executable, "-m", "alchemiser", "signals", "--strategy", str(strategy)]
    argv += ["--prices", str(prices), "--as-of", AS_OF.isoformat(), "--format", "json"]
    samples = []
    runs = max(ctx.repeat, 3)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        samples.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise BenchmarkFailedError(f"signals exited {proc.returncode}: {proc.stderr[-500:]}")
    json.loads(proc.stdout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / runs
    return _check(
        f"python -m alchemiser signals, {strategy.name}, wall incl. process start "
        f"(median; CPU {cpu:.2f} s a run)",
        statistics.median(samples),
        "s",
        CLI_WALL_S,
    )


def _memory(ctx: BenchContext) -> Row:
    folder = write_prices(ctx.workdir / "many", [f"S{i:03d}" for i in range(MEMORY_SYMBOLS)])
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        raise BenchmarkFailedError(f"memory probe failed: {proc.stderr[-500:]}")
    count, held, peak = proc.stdout.split()
    return _check(
        f"memory of a 5-year, {count}-symbol history read from CSV "
        f"(peak while reading; {float(held):.1f} MB held after)",
        float(peak),
        "MB",
        MEMORY_TARGET_MB,
    )


def run(ctx: BenchContext) -> list[Row]:
    """Time cold and warm evaluations, the signals CLI, and the memory of a large history."""
    files = _small_files(ctx)
    texts = {f.name: f.read_text() for f in files}
    large = SymphonyGenerator(seed=LARGE_SEED).symphony(LARGE_SEED)
    symbols = set(UNIVERSE).union(*(parse_symphony(t).symbols for t in texts.values()))
    prices = write_prices(ctx.workdir / "prices", symbols)
    started = time.perf_counter()
    history = read_csv_history(prices, symbols)
    read_ms = (time.perf_counter() - started) * 1000
    rows: list[Row] = [
        {
            "metric": f"read {len(history.symbols)} CSV files to arrays (5 years, not in targets)",
            "value": round(read_ms, 2),
            "unit": "ms",
        }
    ]
    repeat = max(ctx.repeat, 5)
    for name, text in texts.items():
        lines = len(text.splitlines())
        cold, cpu = _cold_ms(text, history, repeat)
        label = f"cold parse + evaluate {name} ({lines} lines; CPU {cpu:.1f} ms)"
        rows.append(_check(label, cold, "ms", SMALL_COLD_MS))
    # Median of three, each a fresh parse and engine (one sample on a shared machine says
    # more about the neighbours than about the code); the last engine is the warm one.
    colds: list[tuple[float, float]] = []
    full_collections: list[float] = []
    watch = _full_collection_timer(full_collections)
    gc.callbacks.append(watch)
    try:
        for _ in range(LARGE_COLD_RUNS):
            started, used = time.perf_counter(), time.process_time()
            symphony = parse_symphony(large)
            engine = Engine(history)
            engine.evaluate(symphony, AS_OF - timedelta(days=1))
            colds.append(
                ((time.perf_counter() - started) * 1000, (time.process_time() - used) * 1000)
            )
    finally:
        gc.callbacks.remove(watch)
    cold = statistics.median(wall for wall, _ in colds)
    cold_cpu = statistics.median(cpu for _, cpu in colds)
    started, used = time.perf_counter(), time.process_time()
    engine.evaluate(symphony, AS_OF)
    warm, warm_cpu = (time.perf_counter() - started) * 1000, (time.process_time() - used) * 1000
    rows += [
        _check(
            f"cold parse + evaluate, 15,000-node file (median of {LARGE_COLD_RUNS}; "
            f"CPU {cold_cpu:.0f} ms)",
            cold,
            "ms",
            LARGE_COLD_MS,
        ),
        _check(
            f"warm evaluate, 15,000-node file, another date (CPU {warm_cpu:.1f} ms)",
            warm,
            "ms",
            LARGE_WARM_MS,
        ),
    ]
    # A full collection scans every object of this process (Airflow is loaded): a run that
    # meets one is slower for reasons outside the engine, and the median may be that run.
    rows.append(
        {
            "metric": "full garbage collections during those cold runs (ms each: "
            + (", ".join(f"{ms:.0f}" for ms in full_collections) or "none")
            + ")",
            "value": len(full_collections),
            "unit": "",
        }
    )
    if files:  # the largest of the small files: the slowest start the promise covers
        rows.append(_cli(ctx, max(files, key=lambda f: len(texts[f.name])), prices))
    rows.append(_memory(ctx))
    return rows
