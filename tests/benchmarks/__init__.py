"""Benchmarks run by `make bench` (`python -m tests.benchmarks.run`); not collected by pytest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

Value = float | int | str | list[str]


class Row(TypedDict):
    """One measured number (or finding) for the results table and JSON."""

    metric: str
    value: Value
    unit: str
    ok: NotRequired[bool]  # present on checks; False makes the run exit 1
    target: NotRequired[str]  # the promise a check holds the value to, e.g. "<= 10 ms"


@dataclass(frozen=True)
class BenchContext:
    """What every benchmark gets from the runner."""

    root: Path
    repeat: int
    workdir: Path


class BenchmarkFailedError(Exception):
    """A benchmark could not measure (a child process failed) or broke a hard rule."""


Benchmark = Callable[[BenchContext], list[Row]]
