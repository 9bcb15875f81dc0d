"""Tearsheet metrics from a backtest's equity curve (formulas in docs/backtest.md).

Daily returns are close-to-close changes of the book's value; the first one is measured from the
starting cash, so the first session's costs count. A year is 252 sessions; the risk-free rate is
0. Returns and drawdowns are fractions (0.12 = 12%); a drawdown is negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

SESSIONS_PER_YEAR = 252
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall from a peak: how deep, and when it started, bottomed and recovered."""

    depth: float
    peak: date
    trough: date
    recovered: date | None


def daily_returns(initial: float, values: Sequence[float]) -> Floats:
    """Return each session's return, the first measured from `initial`."""
    series = np.asarray([initial, *values], dtype=np.float64)
    return series[1:] / series[:-1] - 1.0


def total_return(initial: float, values: Sequence[float]) -> float:
    """Return the final value over the starting cash, minus 1."""
    return values[-1] / initial - 1.0


def cagr(initial: float, values: Sequence[float]) -> float:
    """Return the compound annual growth rate over len(values) sessions."""
    years = len(values) / SESSIONS_PER_YEAR
    return float((values[-1] / initial) ** (1.0 / years) - 1.0)


def volatility(returns: Floats) -> float:
    """Return the annualised sample standard deviation of daily returns."""
    if len(returns) < 2:
        return 0.0
    return float(np.std(returns, ddof=1) * np.sqrt(SESSIONS_PER_YEAR))


def sharpe(returns: Floats) -> float:
    """Return mean over sample standard deviation of daily returns, annualised (rf = 0)."""
    if len(returns) < 2:
        return 0.0
    sd = float(np.std(returns, ddof=1))
    return float(np.mean(returns) / sd * np.sqrt(SESSIONS_PER_YEAR)) if sd > 0 else 0.0


def sortino(returns: Floats) -> float:
    """Return mean daily return over downside deviation (target 0, all sessions), annualised."""
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0
    if downside == 0:
        return 0.0
    return float(np.mean(returns) / downside * np.sqrt(SESSIONS_PER_YEAR))


def max_drawdown(initial: float, dates: Sequence[date], values: Sequence[float]) -> Drawdown:
    """Return the largest fall from a running peak (the starting cash is the first peak)."""
    series = np.asarray([initial, *values], dtype=np.float64)
    peaks = np.maximum.accumulate(series)
    drawdowns = series / peaks - 1.0
    bottom = int(np.argmin(drawdowns))
    depth = float(drawdowns[bottom])
    days = [dates[0], *dates]
    top = int(np.argmax(series[: bottom + 1] == peaks[bottom]))
    later = np.nonzero(series[bottom:] >= peaks[bottom])[0]
    recovered = days[bottom + int(later[0])] if depth < 0 and len(later) else None
    return Drawdown(depth, days[top], days[bottom], recovered)


def drawdown_curve(initial: float, values: Sequence[float]) -> Floats:
    """Return each session's fall from the running peak (0 at a new high)."""
    series = np.asarray([initial, *values], dtype=np.float64)
    return (series / np.maximum.accumulate(series) - 1.0)[1:]


def calmar(cagr_value: float, depth: float) -> float:
    """Return CAGR over the magnitude of the maximum drawdown (0 without a drawdown)."""
    return cagr_value / abs(depth) if depth < 0 else 0.0


def monthly_returns(
    initial: float, dates: Sequence[date], values: Sequence[float]
) -> dict[str, float]:
    """Return each calendar month's return, from the previous month's last close ("YYYY-MM")."""
    ends: dict[str, float] = {}
    for day, value in zip(dates, values, strict=True):
        ends[f"{day:%Y-%m}"] = value  # the month's last session overwrites the earlier ones
    result, previous = {}, initial
    for month, end in ends.items():
        result[month] = end / previous - 1.0
        previous = end
    return result


def turnover(traded: Sequence[float], values: Sequence[float]) -> float:
    """Return traded value (buys plus sells) over twice the mean book value: books replaced."""
    mean = float(np.mean(values)) if len(values) else 0.0
    return float(sum(traded) / (2.0 * mean)) if mean > 0 else 0.0


def exposure(invested: Sequence[float], values: Sequence[float]) -> float:
    """Return the mean share of the book held in positions rather than cash."""
    shares = [i / v for i, v in zip(invested, values, strict=True) if v > 0]
    return float(np.mean(shares)) if shares else 0.0
