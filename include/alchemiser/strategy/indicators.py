"""Indicator formulas, vectorised over a symbol's whole close history (numpy float64).

Each function returns a series aligned with `close`: element i is the indicator as of bar i,
NaN where it is undefined. The recursive ones (RSI, EMA) start from the first bar, so their
values depend on where the history starts; the rest depend only on their window. The rules for
short history (RSI 50, returns 0, moving average an error) are applied by `book.py`, not here.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from alchemiser.strategy.history import FloatArray

ANNUALISE = math.sqrt(252)


def _nan(n: int) -> FloatArray:
    return np.full(n, np.nan, dtype=np.float64)


def ewm_mean(values: FloatArray, alpha: float) -> FloatArray:
    """Exponentially weighted mean, `adjust=False`: pandas' recursion, step for step.

    NaNs before the first value are skipped (the first value seeds the mean), as pandas does.
    """
    if len(values) and not np.isnan(values).any():  # closes: the common case, no NaN tests
        fast = _ewm_numbers(values.tolist(), alpha, values.item(0))
        # Without a NaN in or out both loops take the same steps; a NaN made on the way (from
        # infinities) restarts the mean below, not there.
        if not np.isnan(fast).any():
            return fast
    old_wt = 1.0 - alpha
    denominator = old_wt + alpha  # pandas divides by this sum, see `_ewm_numbers`
    weighted = math.nan
    out: list[float] = []
    append = out.append
    for cur in values.tolist():
        if weighted == weighted:  # noqa: PLR0124 - NaN test without a call, in the hot loop
            if cur == cur and weighted != cur:  # noqa: PLR0124
                weighted = (old_wt * weighted + alpha * cur) / denominator
        elif cur == cur:  # noqa: PLR0124
            weighted = cur
        append(weighted)
    return np.array(out, dtype=np.float64)


def _ewm_numbers(values: list[float], alpha: float, seed: float) -> FloatArray:
    """Return `ewm_mean` of values without NaN whose first is `seed` (or leaves `seed` as is).

    The same operations in the same order, as a comprehension because RSI and EMA are the
    indicators symphonies read most. `1 - alpha + alpha` is exactly 1.0 for every alpha in
    (0, 1] (the error of `1 - alpha` is at most half an ulp of 1.0, which rounds back to 1.0),
    and `x / 1.0` is `x`: that division is skipped, not changed. The mean is left as it is when
    it equals the value, as pandas does.
    """
    old_wt = 1.0 - alpha
    denominator = old_wt + alpha
    mean = seed
    if denominator == 1.0:
        out = [mean := old_wt * mean + alpha * v if v != mean else mean for v in values]
    else:
        out = [
            mean := (old_wt * mean + alpha * v) / denominator if v != mean else mean for v in values
        ]
    return np.fromiter(out, np.float64, len(out))


def _wilder_means(close: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Return `ewm_mean` of the gains and of the losses of `close` (alpha 1/n).

    The first bar has no move: both means are seeded with 0 (a move of 0 leaves a mean of 0 as
    it is).
    """
    moves = np.diff(close, prepend=close[:1])
    gains = np.maximum(moves, 0.0).tolist()
    losses = np.maximum(-moves, 0.0).tolist()
    return _ewm_numbers(gains, 1.0 / n, 0.0), _ewm_numbers(losses, 1.0 / n, 0.0)


def _windows(values: FloatArray, n: int) -> FloatArray:
    return sliding_window_view(values, n) if len(values) >= n else np.empty((0, n))


def _rolling(values: FloatArray, n: int, reduce: str, ddof: int = 0) -> FloatArray:
    out = _nan(len(values))
    windows = _windows(values, n)
    if len(windows):
        if reduce == "mean":
            out[n - 1 :] = windows.mean(axis=1)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                out[n - 1 :] = windows.std(axis=1, ddof=ddof) if n > ddof else np.nan
    return out


def pct_change(close: FloatArray) -> FloatArray:
    """Return close-to-close returns as fractions; the first is NaN."""
    out = _nan(len(close))
    out[1:] = close[1:] / close[:-1] - 1.0
    return out


def rsi(close: FloatArray, n: int) -> FloatArray:
    """Wilder's RSI over all history: EWM(alpha=1/n) of gains and losses, seeded with 0."""
    avg_gain, avg_loss = _wilder_means(close, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = avg_gain / avg_loss  # x/0 is inf (RSI 100); 0/0 is NaN (RSI 50, see book.py)
        return 100.0 - 100.0 / (1.0 + rs)


def ema(close: FloatArray, span: int, *, mask: bool = True) -> FloatArray:
    """EMA with alpha 2/(span+1) seeded with the first close; the first span-1 are masked."""
    out = ewm_mean(close, 2.0 / (span + 1.0))
    if mask:
        out[: span - 1] = np.nan
    return out


def moving_average_price(close: FloatArray, n: int) -> FloatArray:
    """Simple moving average of the last n closes."""
    return _rolling(close, n, "mean")


def moving_average_return(close: FloatArray, n: int) -> FloatArray:
    """Mean of the last n daily returns, in percent."""
    return _rolling(pct_change(close), n, "mean") * 100.0


def cumulative_return(close: FloatArray, n: int) -> FloatArray:
    """Return over the last n bars, in percent."""
    out = _nan(len(close))
    if len(close) > n:
        out[n:] = (close[n:] / close[:-n] - 1.0) * 100.0
    return out


def stdev_return(close: FloatArray, n: int) -> FloatArray:
    """Population standard deviation of the last n daily returns in percent, annualised."""
    return _rolling(pct_change(close) * 100.0, n, "std", ddof=0) * ANNUALISE


def stdev_price(close: FloatArray, n: int) -> FloatArray:
    """Sample standard deviation (ddof 1) of the last n closes, in dollars."""
    return _rolling(close, n, "std", ddof=1)


def max_drawdown(close: FloatArray, n: int) -> FloatArray:
    """Largest peak-to-trough fall within the last n closes, as a positive percent.

    Walks the n offsets of a window over all windows at once, so no n-by-bars array is built:
    each close meets the very running peak it would within its window, and max is exact in any
    order, so the values are those of the windowed formula.
    """
    out = _nan(len(close))
    count = len(close) - n + 1  # windows
    if count > 0:
        peak = close[:count].copy()
        worst = np.zeros(count)  # at a window's first close the fall is 1 - c / c = 0
        fall = np.empty(count)
        for k in range(1, n):
            now = close[k : k + count]
            np.maximum(peak, now, out=peak)
            np.divide(now, peak, out=fall)
            np.subtract(1.0, fall, out=fall)
            np.maximum(worst, fall, out=worst)
        out[n - 1 :] = worst * 100.0
    return out


def ppo(close: FloatArray, short: int, long: int) -> FloatArray:
    """Percentage price oscillator (EMA_short - EMA_long) / EMA_long, first long-1 masked."""
    fast, slow = ema(close, short, mask=False), ema(close, long, mask=False)
    out = (fast - slow) / slow * 100.0
    out[: long - 1] = np.nan
    return out


def ppo_signal(close: FloatArray, short: int, long: int, smooth: int) -> FloatArray:
    """EMA(span=smooth) of the PPO, seeded at its first defined value."""
    return ewm_mean(ppo(close, short, long), 2.0 / (smooth + 1.0))
