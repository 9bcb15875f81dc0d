"""The fast forms of indicator formulas give the very bits of the formulas they replaced.

Each reference below is the code as it was before a speed-up, kept verbatim in spirit: the
same operations in the same order. Inputs are random walks, rounded walks (repeated closes),
flat series and straight lines (moves equal to the running mean), across many windows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from alchemiser.strategy import indicators as ind
from alchemiser.strategy.history import FloatArray

WINDOWS = (1, 2, 3, 5, 7, 10, 14, 20, 60, 200)


def _reference_ewm_mean(values: FloatArray, alpha: float) -> FloatArray:
    # `ewm_mean` before its NaN-free fast path: one loop, NaN tests at every step.
    old_wt = 1.0 - alpha
    denominator = old_wt + alpha
    weighted = math.nan
    out: list[float] = []
    for cur in values.tolist():
        if not math.isnan(weighted):
            if not math.isnan(cur) and weighted != cur:
                weighted = (old_wt * weighted + alpha * cur) / denominator
        elif not math.isnan(cur):
            weighted = cur
        out.append(weighted)
    return np.array(out, dtype=np.float64)


def _reference_wilder_means(close: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    # `_wilder_means` before the division by `old_wt + alpha` (always 1.0) was skipped.
    alpha = 1.0 / n
    old_wt = 1.0 - alpha
    denominator = old_wt + alpha
    if not len(close):
        return np.full(0, np.nan), np.full(0, np.nan)
    moves = np.diff(close)
    gain = loss = 0.0
    gains = [
        gain := (old_wt * gain + alpha * up) / denominator if up != gain else gain
        for up in np.maximum(moves, 0.0).tolist()
    ]
    losses = [
        loss := (old_wt * loss + alpha * down) / denominator if down != loss else loss
        for down in np.maximum(-moves, 0.0).tolist()
    ]
    return np.array([0.0, *gains], dtype=np.float64), np.array([0.0, *losses], dtype=np.float64)


def _reference_rsi(close: FloatArray, n: int) -> FloatArray:
    avg_gain, avg_loss = _reference_wilder_means(close, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def _reference_max_drawdown(close: FloatArray, n: int) -> FloatArray:
    # `max_drawdown` when it built every window as a row.
    out = np.full(len(close), np.nan)
    windows = sliding_window_view(close, n) if len(close) >= n else np.empty((0, n))
    if len(windows):
        peaks = np.maximum.accumulate(windows, axis=1)
        out[n - 1 :] = (1.0 - windows / peaks).max(axis=1) * 100.0
    return out


def _closes() -> list[FloatArray]:
    rng = np.random.default_rng(12)
    cases: list[FloatArray] = []
    for i in range(60):
        walk = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, int(rng.integers(2, 400)))))
        if i % 3 == 0:
            walk[5:15] = walk[min(5, len(walk) - 1)]  # flat days: zero moves mid-series
        if i % 4 == 0:
            walk = np.round(walk, 1)  # repeated moves of the same size
        cases.append(walk)
    return [
        *cases,
        np.array([], dtype=np.float64),
        np.array([5.0]),
        np.full(50, 7.0),  # flat: every move 0, RSI undefined throughout
        np.arange(1.0, 300.0),  # every gain 1.0: the mean meets the move
        np.arange(300.0, 1.0, -1.0),
        1.0 + 0.5 * (np.arange(200) % 2),
        1.0 + np.cumsum(np.full(500, 0.1)),
    ]


@pytest.mark.parametrize("window", WINDOWS)
def test_wilder_means_and_rsi_are_bit_identical_to_the_divided_recursion(window: int) -> None:
    for close in _closes():
        gains, losses = ind._wilder_means(close, window)
        want_gains, want_losses = _reference_wilder_means(close, window)
        assert gains.tobytes() == want_gains.tobytes()
        assert losses.tobytes() == want_losses.tobytes()
        assert ind.rsi(close, window).tobytes() == _reference_rsi(close, window).tobytes()


@pytest.mark.parametrize("window", WINDOWS)
def test_ewm_mean_and_ema_are_bit_identical_to_the_one_loop_recursion(window: int) -> None:
    odd = [
        np.array([math.nan, math.nan, 3.0, 4.0, math.nan, 5.0]),  # a PPO's masked start, a gap
        np.array([1.0, math.inf, 2.0, -math.inf, 3.0, 4.0]),  # inf - inf restarts the mean
        np.array([math.nan] * 4),
    ]
    for values in [*_closes(), *odd]:
        for alpha in (1.0 / window, 2.0 / (window + 1.0)):
            got = ind.ewm_mean(values, alpha)
            assert got.tobytes() == _reference_ewm_mean(values, alpha).tobytes()
        if len(values) and not np.isnan(values).any() and np.isfinite(values).all():
            want = _reference_ewm_mean(values, 2.0 / (window + 1.0))
            want[: window - 1] = np.nan
            assert ind.ema(values, window).tobytes() == want.tobytes()


@pytest.mark.parametrize("window", [*WINDOWS, 398, 399, 400])
def test_max_drawdown_is_bit_identical_to_the_windowed_formula(window: int) -> None:
    for close in _closes():
        got = ind.max_drawdown(close, window)
        assert got.tobytes() == _reference_max_drawdown(close, window).tobytes()


def test_one_minus_alpha_plus_alpha_is_exactly_one_for_every_window() -> None:
    # Why the division may be skipped: checked here for far more windows than any file uses.
    alphas = [1.0 / n for n in range(1, 20_001)] + [2.0 / (s + 1.0) for s in range(1, 20_001)]
    assert all((1.0 - a) + a == 1.0 for a in alphas)
