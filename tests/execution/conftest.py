"""The paper exchange and our code on one fake clock, through the real alpaca-py clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.report import ArtifactRef
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.services.snapshot import take_snapshot
from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from sandbox.processes import exchange_orders
from tests.fakes import FakeStore

SESSION = date(2025, 6, 2)
RUN = RunContext(
    dag_id="daily_rebalance", run_id="manual__x", session=SESSION, session_source="param"
)


@dataclass
class SharedClock:
    """One fake time for the exchange (a callable) and for our Clock port."""

    current: datetime = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.current

    def now(self) -> datetime:
        return self.current

    def timestamp(self) -> float:
        return self.current.timestamp()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class Venue:
    """A running exchange and the adapters our use cases talk through."""

    exchange: PaperExchange
    adapters: Adapters
    clock: SharedClock

    def orders(self) -> list[dict[str, Any]]:
        return exchange_orders(self.exchange.url)

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = requests.get(
            f"{self.exchange.url}/_exchange/stats", timeout=5
        ).json()
        return body

    def plan(self, targets: TargetAllocation, settings: PlanSettings | None = None) -> ArtifactRef:
        snapshot = take_snapshot(RUN.run_id, self.adapters, also_quote=targets.symbols)
        plan = build_plan(targets, snapshot, settings or PlanSettings(cash_reserve_pct=Decimal(0)))
        return save(self.adapters.store, RUN.prefix, "rebalance_plan", plan, "plan")


StartVenue = Callable[..., Venue]


@pytest.fixture
def venue() -> Iterator[StartVenue]:
    started: list[PaperExchange] = []

    def start(cash: str = "10000", positions: dict[str, str] | None = None, **config: Any) -> Venue:
        clock = SharedClock()
        account = AccountSeed(
            cash=Decimal(cash),
            positions={s: Decimal(q) for s, q in (positions or {}).items()},
            account_type=config.pop("account_type", "margin"),
            settlement_delay_seconds=config.pop("settlement_delay_seconds", 5.0),
        )
        config.setdefault("fill_delay_seconds", 0.2)
        exchange = PaperExchange(
            ExchangeConfig(
                session=SESSION, history_start=date(2025, 5, 1), account=account, **config
            ),
            clock=clock,
        )
        exchange.start()
        started.append(exchange)
        alpaca = AlpacaSettings(
            key_id="k", secret_key="s", base_url=exchange.url, timeout_seconds=5
        )
        adapters = Adapters(
            broker=AlpacaBroker(alpaca),
            market_data=AlpacaMarketData(alpaca),
            store=FakeStore(),
            clock=clock,
        )
        return Venue(exchange, adapters, clock)

    yield start
    for exchange in started:
        exchange.stop()


def never_both_sides_open(orders: list[dict[str, Any]]) -> bool:
    """Return True when no symbol ever had a buy and a sell open at the same time."""

    def span(o: dict[str, Any]) -> tuple[str, str]:
        end = o["filled_at"] or o["canceled_at"] or o["replaced_at"] or "9999"
        return o["created_at"], end

    for a in orders:
        for b in orders:
            if a["symbol"] == b["symbol"] and a["side"] == "buy" and b["side"] == "sell":
                (a0, a1), (b0, b1) = span(a), span(b)
                if a0 < b1 and b0 < a1:
                    return False
    return True
