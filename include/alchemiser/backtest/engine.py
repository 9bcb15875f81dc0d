"""The backtest loop: every session decided, planned and filled as the live run would.

Per session: the strategies are evaluated as of that session (`allocate_portfolio`, the function
`compute_signals` calls; the engine sees only bars dated on or before it), each symphony's
rebalance settings are applied (`apply_rebalance`, as `compute_signals` does), the book is
planned with the live planner and filled at the close (`alchemiser.replay.step`, the step the
DAG's replay uses), and the session is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from alchemiser.backtest.prices import PriceTable
from alchemiser.backtest.settings import BacktestSettings
from alchemiser.calendars.trading import Session
from alchemiser.domain.allocation import DecisionStep, StrategyContribution, TargetAllocation
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.market import AssetInfo
from alchemiser.domain.plan import Side
from alchemiser.domain.replay import ReplayBook
from alchemiser.replay.step import SessionStep, step_session
from alchemiser.strategy.portfolio import LoadedPortfolio, allocate_portfolio, rebalance_rules
from alchemiser.strategy.portfolio_config import FixedWeightStrategy
from alchemiser.strategy.rebalance import Held, apply_rebalance
from alchemiser.strategy.symphony import Engine

RUN_ID = "backtest"
MAX_WHY = 40
"""Decision steps kept per holdings switch: enough to show the deciding values, bounded memory."""

Progress = Callable[[int, int, date], None]
Observer = Callable[[TargetAllocation, ReplayBook, SessionStep], None]
"""Called after each session with its targets, the book before it and what the step did."""


@dataclass(frozen=True, slots=True)
class Trade:
    """One simulated fill of the backtest."""

    session: date
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    close: Decimal
    commission: Decimal

    @property
    def value(self) -> Decimal:
        """Return qty times the fill price."""
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class Switch:
    """A session where a strategy changed the symbols it holds, and the values that decided it."""

    session: date
    strategy: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    why: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The book at one session's close and what was decided that session."""

    session: date
    value: Decimal
    cash: Decimal
    targets: dict[str, Decimal]
    held: dict[str, Decimal]
    strategies: dict[str, float]
    traded: Decimal
    rebalanced: tuple[str, ...]


@dataclass
class BacktestResult:
    """Everything a tearsheet is made of."""

    settings: BacktestSettings
    allocations: dict[str, Decimal]
    sessions: list[SessionRecord] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)
    warnings: dict[str, date] = field(default_factory=dict)
    benchmark: list[float] | None = None
    explained: TargetAllocation | None = None


def portfolio_symbols(portfolio: LoadedPortfolio) -> set[str]:
    """Return every symbol any strategy of the portfolio can hold or read."""
    fixed = (s for s in portfolio.config.strategies if isinstance(s, FixedWeightStrategy))
    return set(portfolio.symbols).union(*(s.weights for s in fixed))


@dataclass
class _State:
    book: ReplayBook
    last: dict[str, StrategyContribution] = field(default_factory=dict)
    held: dict[str, Held] = field(default_factory=dict)
    previous: date | None = None


class Backtest:
    """Walks sessions through the live decision path; one instance per run."""

    def __init__(
        self,
        portfolio: LoadedPortfolio,
        prices: PriceTable,
        settings: BacktestSettings,
    ) -> None:
        self.portfolio = portfolio
        self.prices = prices
        self.settings = settings
        self.rules = rebalance_rules(portfolio)
        self.engine = Engine(prices.history)
        self._assets: dict[str, AssetInfo] = {}

    def run(
        self,
        sessions: Sequence[Session],
        *,
        explain: date | None = None,
        progress: Progress | None = None,
        observe: Observer | None = None,
    ) -> BacktestResult:
        """Return the backtest over `sessions` (in order)."""
        if not sessions:
            raise ConfigError("the backtest range holds no trading session")
        first = sessions[0].day
        symbols = portfolio_symbols(self.portfolio)
        bench = self.settings.benchmark
        self.prices.require(symbols | ({bench} if bench else set()), first, "the prices")
        result = BacktestResult(
            settings=self.settings,
            allocations={s.name: s.allocation for s in self.portfolio.config.strategies},
        )
        state = _State(
            ReplayBook(
                run_id=RUN_ID,
                derived_from=("backtest:initial",),
                session=first,
                cash=self.settings.initial_cash,
                holdings=(),
            )
        )
        curves = {
            name: float(a * self.settings.initial_cash) for name, a in result.allocations.items()
        }
        for i, session in enumerate(sessions):
            # Decision text is written only where someone reads all of it; a holdings switch
            # re-evaluates its one symphony for the why (`_why`).
            explained = observe is not None or session.day == explain
            targets = self.decide(session.day, state, explain=explained)
            if session.day == explain:
                result.explained = targets
            curves = self._attribute(curves, state, session.day)
            step = self.step(targets, state.book, session)
            self._record(result, state, targets, step, curves, explained=explained)
            if observe is not None:
                observe(targets, state.book, step)
            state.book, state.previous = step.after, session.day
            state.last = {c.strategy: c for c in targets.contributions}
            if progress is not None:
                progress(i + 1, len(sessions), session.day)
        if bench:
            start = self.prices.close(bench, first)
            initial = float(self.settings.initial_cash)
            result.benchmark = [
                initial * float(self.prices.close(bench, s.day) / start) for s in sessions
            ]
        return result

    def decide(self, day: date, state: _State, *, explain: bool = True) -> TargetAllocation:
        """Return the session's merged targets: live decisions, rebalance settings applied.

        Without `explain` symphonies contribute their warnings but no decision steps.
        """
        targets = allocate_portfolio(self.portfolio, self.engine, day, RUN_ID, explain=explain)
        if not self.rules:
            return targets
        targets, state.held = apply_rebalance(targets, self.rules, state.held, self.prices.history)
        return targets

    def step(self, targets: TargetAllocation, book: ReplayBook, session: Session) -> SessionStep:
        """Plan and fill one session with the live planner at the session's closes."""
        symbols = set(targets.symbols) | {h.symbol for h in book.holdings}
        closes = self.prices.closes(symbols, session.day)
        return step_session(
            targets,
            book,
            closes,
            tuple(self._asset(s) for s in sorted(closes)),
            taken_at=session.close,
            settings=self.settings.plan,
            costs=self.settings.costs,
        )

    def _asset(self, symbol: str) -> AssetInfo:
        found = self._assets.get(symbol)
        if found is None:
            found = AssetInfo(
                symbol=symbol, tradable=True, fractionable=self.settings.fractionable(symbol)
            )
            self._assets[symbol] = found
        return found

    def _attribute(self, curves: dict[str, float], state: _State, day: date) -> dict[str, float]:
        """Grow each strategy's own slice by its previous weights' returns into `day`."""
        if state.previous is None:
            return curves
        out = {}
        for name, value in curves.items():
            part = state.last[name]
            growth = sum(
                float(w.weight)
                * float(
                    self.prices.close(w.symbol, day) / self.prices.close(w.symbol, state.previous)
                )
                for w in part.weights
            )
            out[name] = value * growth
        return out

    def _record(
        self,
        result: BacktestResult,
        state: _State,
        targets: TargetAllocation,
        step: SessionStep,
        curves: dict[str, float],
        *,
        explained: bool,
    ) -> None:
        day, after = targets.as_of, step.after
        closes = {q.symbol: q.bid for q in step.snapshot.quotes}
        trades = [
            Trade(day, f.symbol, f.side, f.qty, f.price, closes[f.symbol], f.commission)
            for f in step.fills
        ]
        result.trades += trades
        value = after.value
        result.sessions.append(
            SessionRecord(
                session=day,
                value=value,
                cash=after.cash,
                targets={w.symbol: w.weight for w in targets.weights},
                held={h.symbol: h.market_value / value for h in after.holdings} if value else {},
                strategies=curves,
                traded=sum((t.value for t in trades), Decimal(0)),
                rebalanced=tuple(c.strategy for c in targets.contributions if c.rebalanced),
            )
        )
        for part in targets.contributions:
            for warning in part.warnings:
                result.warnings.setdefault(f"{part.strategy}: {warning}", day)
            before = state.last.get(part.strategy)
            held = tuple(w.symbol for w in part.weights)
            was = tuple(w.symbol for w in before.weights) if before else ()
            if before is not None and held != was:
                why = part.trace[:MAX_WHY] if explained else self._why(part, day)
                lines = tuple(f"{s.where}  {s.what}" for s in why)
                result.switches.append(Switch(day, part.strategy, was, held, lines))

    def _why(self, part: StrategyContribution, day: date) -> tuple[DecisionStep, ...]:
        """Return the first decision steps of an unexplained contribution, as if explained."""
        symphony = self.portfolio.symphonies.get(part.strategy)
        if symphony is None:  # fixed weights and Python strategies always carry their trace
            return part.trace[:MAX_WHY]
        # The rebalance step (if any) comes first, then the symphony's own steps.
        steps = self.engine.evaluate(symphony, day).trace.steps[:MAX_WHY]
        found = (*part.trace, *(DecisionStep(where=str(s.where), what=s.text) for s in steps))
        return found[:MAX_WHY]
