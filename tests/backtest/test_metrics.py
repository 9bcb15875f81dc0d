"""Each tearsheet metric against an independent pandas computation on a known series."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from alchemiser.backtest import metrics as m

INITIAL = 100.0
DATES = [d.date() for d in pd.bdate_range("2023-01-02", "2023-04-28")]
RNG = np.random.default_rng(3)
VALUES = list(INITIAL * np.cumprod(1 + RNG.normal(0.0005, 0.01, len(DATES))))
SERIES = pd.Series([INITIAL, *VALUES])
RETURNS = SERIES.pct_change().dropna()


def test_returns_volatility_sharpe_sortino() -> None:
    returns = m.daily_returns(INITIAL, VALUES)
    assert np.allclose(returns, RETURNS.to_numpy())
    assert m.total_return(INITIAL, VALUES) == pytest.approx(SERIES.iloc[-1] / 100 - 1)
    assert m.cagr(INITIAL, VALUES) == pytest.approx(
        (SERIES.iloc[-1] / 100) ** (252 / len(VALUES)) - 1
    )
    assert m.volatility(returns) == pytest.approx(RETURNS.std() * math.sqrt(252))
    assert m.sharpe(returns) == pytest.approx(RETURNS.mean() / RETURNS.std() * math.sqrt(252))
    downside = math.sqrt((RETURNS.clip(upper=0) ** 2).mean())
    assert m.sortino(returns) == pytest.approx(RETURNS.mean() / downside * math.sqrt(252))


def test_max_drawdown_depth_and_dates() -> None:
    values = [110.0, 120.0, 90.0, 100.0, 125.0, 80.0, 100.0]
    dates = [date(2024, 1, d) for d in range(1, 8)]
    series = pd.Series([100.0, *values], index=[dates[0], *dates])
    dd = series / series.cummax() - 1
    found = m.max_drawdown(100.0, dates, values)
    assert found.depth == pytest.approx(dd.min()) == pytest.approx(80 / 125 - 1)
    assert (found.peak, found.trough, found.recovered) == (dates[4], dates[5], None)
    assert m.calmar(0.2, found.depth) == pytest.approx(0.2 / 0.36)
    assert np.allclose(m.drawdown_curve(100.0, values), dd.to_numpy()[1:])
    recovered = m.max_drawdown(100.0, dates[:5], values[:5])
    assert (recovered.peak, recovered.trough, recovered.recovered) == (
        dates[1],
        dates[2],
        dates[4],
    )


def test_monthly_returns_chain_from_each_previous_month_end() -> None:
    series = pd.Series(VALUES, index=pd.to_datetime(DATES))
    ends = pd.concat([pd.Series([INITIAL]), series.resample("ME").last().reset_index(drop=True)])
    expected = ends.pct_change().dropna().to_list()
    found = m.monthly_returns(INITIAL, DATES, VALUES)
    assert list(found) == ["2023-01", "2023-02", "2023-03", "2023-04"]
    assert np.allclose(list(found.values()), expected)
    assert math.prod(1 + r for r in found.values()) == pytest.approx(VALUES[-1] / INITIAL)


def test_turnover_and_exposure() -> None:
    values = [100.0, 110.0, 90.0]
    assert m.turnover([100.0, 20.0, 0.0], values) == pytest.approx(120 / (2 * np.mean(values)))
    assert m.exposure([99.0, 55.0, 0.0], values) == pytest.approx(np.mean([0.99, 0.5, 0.0]))
