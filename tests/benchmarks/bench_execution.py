"""Execution cost: requests per filled order and time for 10/100/500-symbol rebalances.

Each size runs plan, sells, settlement and buys through the real alpaca-py clients against an
in-process paper exchange with a synthetic universe and Alpaca's 200-requests-a-minute limit.
Exchange and client share one fake clock, so the rate limiter's waits cost simulated minutes,
not real ones: `simulated` is the time the rebalance would take at the venue, `wall` the time
this machine needed. Happy path: resting limits fill at the first price (no walking).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.ratelimit import RateLimiter
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.allocation import (
    StrategyContribution,
    TargetAllocation,
    weights_from_mapping,
)
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import PlanSettings
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.execute import execute_buys, execute_sells
from alchemiser.services.settlement import check_ready_to_buy
from alchemiser.services.snapshot import take_snapshot
from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from sandbox.processes import exchange_orders
from tests.benchmarks import BenchContext, Row
from tests.execution.conftest import SharedClock
from tests.fakes import FakeStore

SIZES = (10, 100, 500)
SESSION = date(2025, 6, 2)
BUDGET_PER_MINUTE = 200
MAX_REQUESTS_PER_FILL = 4.0
RUN = RunContext(dag_id="bench", run_id="bench__1", session=SESSION, session_source="param")


def _limiter(clock: SharedClock) -> RateLimiter:
    return RateLimiter(
        per_minute=190,
        monotonic=clock.timestamp,
        wall=clock.timestamp,
        sleep=clock.sleep,
    )


def rebalance(size: int) -> dict[str, float]:
    """Run one rebalance of `size` symbols (half sold out, half bought) and measure it."""
    symbols = [f"SYN{i:04d}" for i in range(1, size + 1)]
    held, wanted = symbols[: size // 2], symbols[size // 2 :]
    clock = SharedClock()
    config = ExchangeConfig(
        session=SESSION,
        history_start=SESSION - timedelta(days=10),
        account=AccountSeed(cash=Decimal(1000), positions={s: Decimal(10) for s in held}),
        synthetic_assets=size,
        rate_limit_per_minute=BUDGET_PER_MINUTE,
        limit_fill_fraction=Decimal("0.4"),
    )
    with PaperExchange(config, clock=clock) as exchange:
        alpaca = AlpacaSettings(key_id="k", secret_key="s", base_url=exchange.url)
        broker = AlpacaBroker(alpaca, _limiter(clock), _limiter(clock))
        adapters = Adapters(broker, AlpacaMarketData(alpaca), FakeStore(), clock)
        weights = weights_from_mapping({s: Decimal(1) / len(wanted) for s in wanted})
        targets = TargetAllocation(
            run_id=RUN.run_id,
            as_of=SESSION,
            weights=weights,
            contributions=(
                StrategyContribution(strategy="b", allocation=Decimal(1), weights=weights),
            ),
        )
        settings = ExecutionSettings()
        started, sim_start = time.perf_counter(), clock.current
        snapshot = take_snapshot(RUN.run_id, adapters, also_quote=targets.symbols)
        plan = build_plan(targets, snapshot, PlanSettings(min_trade_pct=Decimal(0)))
        plan_ref = save(adapters.store, RUN.prefix, "rebalance_plan", plan, "plan")
        sells = execute_sells(RUN, RUN.task("execute_sells"), plan_ref, adapters, settings)
        while not check_ready_to_buy(broker, clock, sells, Decimal(10), None)[0]:
            clock.sleep(2)
        buys_ref = execute_buys(RUN, RUN.task("execute_buys"), plan_ref, adapters, settings)
        wall = time.perf_counter() - started
        simulated = (clock.current - sim_start).total_seconds()
        stats = requests.get(f"{exchange.url}/_exchange/stats", timeout=10).json()
        orders = exchange_orders(exchange.url)
    phases = [
        PhaseResult.model_validate_json(adapters.store.get(r.key)) for r in (sells.phase, buys_ref)
    ]
    filled = sum(1 for o in orders if o["status"] == "filled")
    api = sum(n for route, n in stats["by_route"].items() if " /v2/" in route)
    return {
        "requests": api,
        "filled": filled,
        "per_fill": api / max(filled, 1),
        "rate_limited": stats["rate_limited"],
        "wall": wall,
        "simulated": simulated,
        "walks_filled": sum(1 for p in phases for w in p.walks if w.outcome.value == "filled"),
        "planned": len(plan.items),
    }


def run(ctx: BenchContext) -> list[Row]:
    """Measure each size once (the exchange is deterministic; repeats add nothing)."""
    rows: list[Row] = []
    for size in SIZES:
        m = rebalance(size)
        rows += [
            {
                "metric": f"{size} symbols: requests per filled order",
                "value": round(m["per_fill"], 2),
                "unit": f"{int(m['requests'])} requests / {int(m['filled'])} fills",
                "ok": m["per_fill"] <= MAX_REQUESTS_PER_FILL,
            },
            {
                "metric": f"{size} symbols: 429 responses",
                "value": int(m["rate_limited"]),
                "unit": f"budget {BUDGET_PER_MINUTE}/min",
                "ok": m["rate_limited"] == 0,
            },
            {
                "metric": f"{size} symbols: walks filled",
                "value": int(m["walks_filled"]),
                "unit": f"of {int(m['planned'])} planned",
                "ok": m["walks_filled"] == m["planned"],
            },
            {"metric": f"{size} symbols: simulated time", "value": m["simulated"], "unit": "s"},
            {"metric": f"{size} symbols: wall time", "value": m["wall"], "unit": "s"},
        ]
    return rows
