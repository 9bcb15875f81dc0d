"""Dual momentum: hold the two strongest of the risk assets, or T-bills when none is rising.

A Python strategy (docs/python-strategies.md): `SYMBOLS` declares every ticker it may read or
weight; `weights(view)` gets each one's daily closes up to the as-of date, nothing later.
"""

from __future__ import annotations

from alchemiser.strategy.python import BarView

SYMBOLS = ("SPY", "QQQ", "BRK.B", "GLD", "BIL")
RISK = ("SPY", "QQQ", "BRK.B", "GLD")
LOOKBACK = 60
"""Sessions of momentum: the return from the close LOOKBACK sessions ago to the latest one."""


def weights(view: BarView) -> dict[str, float]:
    """Return equal weights on the two risk assets with the best positive momentum."""
    momentum: dict[str, float] = {}
    for symbol in RISK:
        closes = view.closes(symbol)
        if len(closes) <= LOOKBACK:
            view.warn(f"{symbol}: only {len(closes)} closes, momentum taken as 0")
            momentum[symbol] = 0.0
            continue
        momentum[symbol] = float(closes[-1] / closes[-1 - LOOKBACK] - 1.0)
    ranked = sorted(RISK, key=lambda s: (-momentum[s], s))
    shown = ", ".join(f"{s} {momentum[s]:.2%}" for s in ranked)
    winners = [s for s in ranked[:2] if momentum[s] > 0]
    view.explain(f"{LOOKBACK}-session momentum: {shown} -> {', '.join(winners) or 'BIL'}")
    if not winners:
        return {"BIL": 1.0}
    return {s: 1.0 / len(winners) for s in winners}
