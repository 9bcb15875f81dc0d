"""compute_signals: evaluate the portfolio's strategies into one target allocation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from alchemiser.calendars.trading import calendar as exchange_calendar
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.report import ArtifactRef
from alchemiser.marketdata.cache import BarCache
from alchemiser.ports import MarketData, ObjectStore, SessionCalendar
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.holdings import (
    read_held,
    read_replay_held,
    write_held,
    write_replay_held,
)
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.portfolio import (
    allocate_portfolio,
    check_data,
    load_portfolio,
    rebalance_rules,
)
from alchemiser.strategy.portfolio_config import load_portfolio_config
from alchemiser.strategy.rebalance import apply_rebalance
from alchemiser.strategy.symphony import Engine

log = structlog.get_logger(__name__)


def compute_signals(
    run: RunContext,
    config_path: Path,
    store: ObjectStore,
    market_data: MarketData | None = None,
    calendar: SessionCalendar | None = None,
    *,
    on_targets: Callable[[TargetAllocation], None] | None = None,
    replay: bool = False,
) -> ArtifactRef:
    """Evaluate every configured strategy as of the run's session and store the targets.

    Symphonies read daily bars through the bar cache in `store`, refreshed from `market_data`;
    a symbol without bars fails the run unless its strategy sets `allow_missing_data`. A symphony
    with rebalance settings that is not due contributes what it holds (services/holdings.py):
    its live state, or with `replay` (a past session) the state of the replayed sessions.
    `on_targets` sees the targets before they are stored (metrics).
    """
    portfolio = load_portfolio(load_portfolio_config(config_path), config_path)
    history = PriceHistory({})
    if portfolio.symbols:
        if market_data is None:
            raise ConfigError(
                f"{config_path}: symphony and Python strategies need a market-data source"
            )
        cache = BarCache(store, market_data, calendar or exchange_calendar())
        history = cache.load_history(portfolio.symbols, run.session)
        refresh = cache.last_refresh
        log.info(
            "bars loaded",
            run_id=run.run_id,
            fetched=len(refresh.fetched),
            fresh=len(refresh.fresh),
            unknown=",".join(refresh.unknown),
        )
        check_data(portfolio, history)
    targets = allocate_portfolio(portfolio, Engine(history), run.session, run.run_id)
    rules = rebalance_rules(portfolio)
    if rules and replay:
        held = read_replay_held(store, rules, run.session)
        targets, holding = apply_rebalance(targets, rules, held, history)
        write_replay_held(store, run.session, holding)
    elif rules:
        held = read_held(store, rules, run.session)
        targets, holding = apply_rebalance(targets, rules, held, history)
        write_held(store, held, holding)
    summary = ", ".join(f"{w.symbol} {w.weight:.2%}" for w in targets.weights)
    log.info("targets computed", run_id=run.run_id, targets=summary)
    for contribution in targets.contributions:
        for warning in contribution.warnings:
            log.warning(
                "strategy warning",
                run_id=run.run_id,
                strategy=contribution.strategy,
                warning=warning,
            )
    if on_targets is not None:
        on_targets(targets)
    return save(store, run.prefix, "target_allocation", targets, summary)
