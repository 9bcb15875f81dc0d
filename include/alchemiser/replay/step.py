"""One simulated session: the book as a snapshot, the live planner, fills at the close.

The DAG's replay (services/replay.py) and the backtest (alchemiser.backtest) both go through
these functions, so a past session is planned exactly as a live one would be: same planner, same
cash reserve, band and minimums, the book priced at the session's closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.market import AssetInfo, Quote
from alchemiser.domain.plan import PlanSettings, RebalancePlan
from alchemiser.domain.portfolio import Holding, PortfolioSnapshot
from alchemiser.domain.replay import REPLAY_ACCOUNT, CostModel, ReplayBook, SimulatedFill
from alchemiser.planning.planner import build_plan
from alchemiser.replay.simulate import simulate_fills


def book_snapshot(
    book: ReplayBook,
    closes: dict[str, Decimal],
    assets: tuple[AssetInfo, ...],
    taken_at: datetime,
    run_id: str,
) -> PortfolioSnapshot:
    """Return the simulated book as the planner's snapshot, every quote at the close."""
    return PortfolioSnapshot(
        run_id=run_id,
        derived_from=(book.artifact_id,),
        taken_at=taken_at,
        account_id=REPLAY_ACCOUNT,
        cash=book.cash,
        buying_power=max(Decimal(0), book.cash),
        non_marginable_buying_power=max(Decimal(0), book.cash),
        holdings=tuple(
            Holding(symbol=h.symbol, qty=h.qty, price=closes[h.symbol]) for h in book.holdings
        ),
        quotes=tuple(
            Quote(symbol=s, bid=price, ask=price, timestamp=taken_at)
            for s, price in sorted(closes.items())
        ),
        assets=assets,
    )


@dataclass(frozen=True)
class SessionStep:
    """What one simulated session did."""

    snapshot: PortfolioSnapshot
    plan: RebalancePlan
    fills: tuple[SimulatedFill, ...]
    after: ReplayBook


def step_session(
    targets: TargetAllocation,
    book: ReplayBook,
    closes: dict[str, Decimal],
    assets: tuple[AssetInfo, ...],
    *,
    taken_at: datetime,
    settings: PlanSettings,
    costs: CostModel,
) -> SessionStep:
    """Plan `targets` against `book` at `closes` with the live planner, then fill at the close."""
    snapshot = book_snapshot(book, closes, assets, taken_at, targets.run_id)
    plan = build_plan(targets, snapshot, settings)
    fills, after = simulate_fills(plan, book, closes, targets.as_of, targets.run_id, costs=costs)
    return SessionStep(snapshot, plan, fills, after)
