"""Whether a strategy rebalances this session: the hook for per-strategy rebalance settings.

The backtest asks the policy once per strategy per session. A strategy that does not rebalance
keeps what it held: its last decided weights, drifted by each symbol's return since then (its
own book left alone), while the other strategies trade. The default rebalances every session,
which is what the live DAG does today. Composer's `:rebalance-frequency` and
`:rebalance-threshold` (issue 12) plug in here as another policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

RebalancePolicy = Callable[[str, date, date | None], bool]
"""(strategy name, session, the session it last rebalanced or None) -> rebalance now?"""


def every_session(strategy: str, session: date, last: date | None) -> bool:
    """Rebalance every strategy every session."""
    del strategy, session, last
    return True


def drifted(weights: dict[str, Decimal], moves: dict[str, Decimal]) -> dict[str, Decimal]:
    """Return `weights` after each symbol moved by the factor `moves[symbol]`, summing to 1."""
    grown = {s: w * moves[s] for s, w in weights.items()}
    total = sum(grown.values(), Decimal(0))
    return {s: v / total for s, v in grown.items()}
