"""Run the benchmarks: `python -m tests.benchmarks.run [--repeat N] [--only NAME ...]`.

Prints one table and writes `.bench/results.json` (machine, timestamp, every row). Exits 1 when
a benchmark fails to measure or a check row (`ok`) fails. To add a benchmark, write a module
with a `run(ctx) -> list[Row]` function and add it to BENCHMARKS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import structlog

from tests.benchmarks import (
    BenchContext,
    Benchmark,
    BenchmarkFailedError,
    Row,
    bench_backtest,
    bench_console,
    bench_execution,
    bench_ledger,
    bench_parse,
    bench_signals,
    bench_strategy,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = ROOT / ".bench" / "results.json"

BENCHMARKS: dict[str, Benchmark] = {
    "backtest": bench_backtest.run,
    "console": bench_console.run,
    "dag_parse": bench_parse.run,
    "execution": bench_execution.run,
    "ledger": bench_ledger.run,
    "signals": bench_signals.run,
    "strategy": bench_strategy.run,
}


def _say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - this is a CLI; the table is its output


def _git_commit() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=10,
        )
    except OSError:
        return None
    return proc.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """Describe where the numbers were measured."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "apache_airflow": metadata.version("apache-airflow"),
        "git_commit": _git_commit(),
    }


def _format_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def render_table(results: dict[str, dict[str, Any]]) -> str:
    """Return the results as a fixed-width text table."""
    lines = []
    for name, result in results.items():
        rows: list[Row] = result["rows"]
        if result["error"] is not None:
            rows = [{"metric": "FAILED", "value": result["error"], "unit": "", "ok": False}]
        for row in rows:
            ok = row.get("ok")
            flag = "" if ok is None else ("PASS" if ok else "FAIL")
            value, target = _format_value(row["value"]), row.get("target", "")
            lines.append((name, row["metric"], value, row["unit"], target, flag))
    header = ("benchmark", "metric", "value", "unit", "target", "check")
    widths = [max(len(str(col)) for col in column) for column in zip(header, *lines, strict=False)]
    # Numbers align on the right; a long list or error may overflow the column instead of
    # stretching every row.
    widths[2] = min(widths[2], max([len(line[2]) for line in lines if _is_number(line[2])] or [5]))

    def fmt(cols: tuple[str, ...]) -> str:
        cells = [
            col.rjust(width) if i == 2 and _is_number(col) else col.ljust(width)
            for i, (col, width) in enumerate(zip(cols, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def run(names: list[str], repeat: int) -> dict[str, dict[str, Any]]:
    """Run the named benchmarks in order; a failure is recorded, not raised."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="alchemiser-bench-") as tmp:
        for name in names:
            workdir = Path(tmp) / name
            workdir.mkdir()
            ctx = BenchContext(root=ROOT, repeat=repeat, workdir=workdir)
            started = time.perf_counter()
            rows: list[Row] = []
            error = None
            try:
                rows = BENCHMARKS[name](ctx)
            except (BenchmarkFailedError, subprocess.TimeoutExpired, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            results[name] = {
                "rows": rows,
                "error": error,
                "seconds": round(time.perf_counter() - started, 2),
            }
    return results


def _passed(results: dict[str, dict[str, Any]]) -> bool:
    return all(
        result["error"] is None and all(row.get("ok", True) for row in result["rows"])
        for result in results.values()
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON; return 0 when every benchmark passed."""
    # The code under test logs every order; the table is the output here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per sample")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--symphonies",
        type=Path,
        metavar="DIR",
        help="also check and time the *.clj symphonies in DIR (`strategy`, `signals`, `backtest`)",
    )
    args = parser.parse_args(argv)
    if args.symphonies is not None:
        os.environ[bench_strategy.SYMPHONIES_ENV] = str(args.symphonies.resolve())
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    names = args.only or list(BENCHMARKS)
    # The results carry a timestamp; this CLI is the edge where reading the clock belongs.
    stamp = datetime.now(UTC).isoformat(timespec="seconds")  # noqa: TID251
    load_before = os.getloadavg()
    results = run(names, args.repeat)
    _say(render_table(results))
    # The machine may be shared: timings mean little without how busy it was.
    load_after = os.getloadavg()
    _say(
        f"\nload average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )

    passed = _passed(results)
    document = {
        "timestamp": stamp,
        "machine": machine_info(),
        "load_average_before": [round(x, 2) for x in load_before],
        "options": {"repeat": args.repeat, "benchmarks": names},
        "passed": passed,
        "benchmarks": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    _say(f"\nwrote {args.output}" + ("" if passed else "  (FAILED: see the check column)"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
