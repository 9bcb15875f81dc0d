"""Seeded generators: random valid symphonies of a chosen size, and synthetic daily bars.

Shared by the property tests and `tests/benchmarks/bench_strategy.py`.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from alchemiser.domain.market import Bar

UNIVERSE = ("SPY", "QQQ", "TQQQ", "SQQQ", "TECL", "SOXL", "BIL", "TLT", "GLD", "IEF", "XLK")
METRICS = ("rsi", "moving-average-return", "cumulative-return", "stdev-return", "max-drawdown")
COMPARED = (*METRICS, "current-price", "moving-average-price", "exponential-moving-average-price")


def weekdays(start: date, end: date) -> list[date]:
    """Return Monday-to-Friday dates in [start, end]."""
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]


def synthetic_closes(
    symbols: Sequence[str], start: date, end: date, seed: int = 7
) -> dict[str, list[tuple[date, Decimal]]]:
    """Return a seeded geometric random walk of closes per symbol on every weekday."""
    days = weekdays(start, end)
    out: dict[str, list[tuple[date, Decimal]]] = {}
    for symbol in symbols:
        digest = hashlib.sha256(f"{seed}:{symbol}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        close, vol = rng.uniform(10, 500), rng.uniform(0.01, 0.05)
        rows = []
        for day in days:
            close *= math.exp(rng.gauss(0.0003, vol))
            rows.append((day, Decimal(f"{close:.4f}")))
        out[symbol] = rows
    return out


def synthetic_bars(
    symbols: Sequence[str], start: date, end: date, seed: int = 7
) -> dict[str, tuple[Bar, ...]]:
    """Return the same walk as OHLCV bars (open = high = low = close)."""
    return {
        s: tuple(
            Bar(session=d, open=c, high=c, low=c, close=c, volume=Decimal(1000)) for d, c in rows
        )
        for s, rows in synthetic_closes(symbols, start, end, seed).items()
    }


class SymphonyGenerator:
    """Build random valid symphony text; every `if` has an else so evaluation cannot fail."""

    def __init__(self, seed: int, symbols: Sequence[str] = UNIVERSE, group_filters: bool = True):
        self.rng = random.Random(seed)
        self.symbols = list(symbols)
        self.group_filters = group_filters
        self.nodes = 0
        self.groups = 0

    def _sym(self) -> str:
        return f'"{self.rng.choice(self.symbols)}"'

    def _indicator(self) -> str:
        self.nodes += 3
        kind = self.rng.choice(COMPARED)
        if kind == "current-price":
            return f"(current-price {self._sym()})"
        return f"({kind} {self._sym()} {{:window {self.rng.randint(2, 60)}}})"

    def _condition(self) -> str:
        self.nodes += 2
        op = self.rng.choice((">", "<", ">=", "<="))
        right = self._indicator() if self.rng.random() < 0.4 else str(self.rng.randint(-20, 90))
        return f"({op} {self._indicator()} {right})"

    def _asset(self) -> str:
        self.nodes += 2
        return f"(asset {self._sym()})"

    def portfolio(self, budget: int, depth: int = 0) -> str:
        """Return a portfolio expression using about `budget` nodes."""
        if budget <= 3 or depth > 40:
            return self._asset()
        roll = self.rng.random()
        if roll < 0.4:
            half = (budget - 8) // 2
            cond = self._condition()
            then, other = self.portfolio(half, depth + 1), self.portfolio(half, depth + 1)
            self.nodes += 3
            return f"(if {cond} [{then}] [{other}])"
        n = self.rng.randint(2, 4)
        share = max(1, (budget - 4) // n)
        kids = [self.portfolio(share, depth + 1) for _ in range(n)]
        self.nodes += 2 + n
        if roll < 0.6:
            return f"(weight-equal [{' '.join(kids)}])"
        if roll < 0.72:
            pairs = " ".join(f"{self.rng.randint(1, 9) / 10} {k}" for k in kids)
            return f"(weight-specified {pairs})"
        if roll < 0.8:
            return f"(weight-inverse-volatility {self.rng.randint(5, 30)} [{' '.join(kids)}])"
        if roll < 0.9 or not self.group_filters:
            metric = self.rng.choice(METRICS)
            pick = self.rng.choice(("select-top", "select-bottom"))
            assets = " ".join(self._asset() for _ in range(n))
            return (
                f"(filter ({metric} {{:window {self.rng.randint(2, 30)}}}) ({pick} 1) [{assets}])"
            )
        self.groups += n
        groups = " ".join(f'(group "g{self.groups}-{i}" [{k}])' for i, k in enumerate(kids))
        metric = self.rng.choice(METRICS)
        return (
            f"(filter ({metric} {{:window {self.rng.randint(3, 15)}}}) "
            f"(select-top {self.rng.randint(1, 2)}) [{groups}])"
        )

    def symphony(self, budget: int) -> str:
        """Return a whole `defsymphony` of about `budget` nodes."""
        body = self.portfolio(budget)
        return f'(defsymphony "random" {{:rebalance-frequency :daily}} (weight-equal [{body}]))'
