"""The chaos harness: a paper exchange with faults, real alpaca-py, a moto S3 ledger, the oracle.

Every scenario ends with the same three checks, from the exchange's order log (the oracle):
exactly one exchange order per client order id, no intent sent twice (each walk is one chain
of orders under its own ids, filling at most what the plan asked), and the ledger matching
the broker (`alchemiser.ledger.reconcile.compare` finds no difference).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import requests

from alchemiser.adapters.alpaca.broker import AlpacaBroker
from alchemiser.adapters.alpaca.market_data import AlpacaMarketData
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.plan import PlanSettings, RebalancePlan, Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.sessions import NEW_YORK
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ledger.ids import PREFIX
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ledger.reconcile import compare
from alchemiser.planning.planner import build_plan
from alchemiser.ports import Adapters
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext
from alchemiser.services.execute import walk_ids
from alchemiser.services.snapshot import take_snapshot
from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from paper_exchange.faults import FaultSet
from sandbox.processes import exchange_oracle, exchange_orders
from tests.builders import targets
from tests.execution.conftest import SharedClock

SESSION = date(2025, 6, 2)
TARGETS = {"SPY": "0.3", "XLE": "0.35", "BIL": "0.35"}
POSITIONS = {"SPY": "40", "QQQ": "30"}
SETTINGS = ExecutionSettings(step_interval_seconds=10, poll_interval_seconds=1, walk_seconds=120)


def start_venue(
    s3_client: Any, bucket: str, faults: FaultSet | None = None, **config: Any
) -> Venue:
    """Start an exchange (fake clock shared with our code) and adapters; create `bucket`."""
    clock = SharedClock()
    positions = config.pop("positions", POSITIONS)
    account = AccountSeed(
        cash=Decimal(config.pop("cash", "1000")),
        positions={s: Decimal(q) for s, q in positions.items()},
    )
    alpaca_overrides = config.pop("alpaca", {})
    config.setdefault("fill_delay_seconds", 0.2)
    config.setdefault("limit_fill_fraction", Decimal("0.6"))  # fills on the second step
    exchange = PaperExchange(
        ExchangeConfig(
            session=SESSION, history_start=SESSION.replace(month=5), account=account, **config
        ),
        clock=clock,
        faults=faults,
    )
    exchange.start()
    alpaca = AlpacaSettings(
        key_id="k",
        secret_key="s",
        base_url=exchange.url,
        **{"timeout_seconds": 5, "retry_backoff_seconds": 0.01, **alpaca_overrides},
    )
    s3_client.create_bucket(Bucket=bucket)
    store = S3ObjectStore(s3_client, bucket)
    broker = AlpacaBroker(alpaca)
    adapters = Adapters(
        broker=broker, market_data=AlpacaMarketData(alpaca), store=store, clock=clock
    )
    return Venue(exchange, adapters, clock, broker, store)


def run_context(run_id: str = "manual__chaos") -> RunContext:
    """Return a run for the exchange's session."""
    return RunContext(
        dag_id="daily_rebalance", run_id=run_id, session=SESSION, session_source="param"
    )


@dataclass
class Venue:
    """A running exchange (fake clock), adapters on it, and the S3 store the ledger lives in."""

    exchange: PaperExchange
    adapters: Adapters
    clock: SharedClock
    broker: AlpacaBroker
    store: S3ObjectStore

    @property
    def url(self) -> str:
        return self.exchange.url

    def faults(self, body: dict[str, Any]) -> None:
        response = requests.post(f"{self.url}/_exchange/faults", json=body, timeout=5)
        assert response.status_code == 200, response.text

    def injected(self) -> dict[str, int]:
        body = requests.get(f"{self.url}/_exchange/faults", timeout=5).json()
        return dict(body["injected"])

    def orders(self) -> list[dict[str, Any]]:
        return exchange_orders(self.url)

    def rejected(self) -> int:
        return int(exchange_oracle(self.url)["rejected_count"])

    def account_id(self) -> str:
        headers = {"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
        body = requests.get(f"{self.url}/v2/account", headers=headers, timeout=5).json()
        return str(body["id"])

    def ledger(self) -> TradeLedger:
        return TradeLedger(self.store, self.account_id(), self.clock)

    def plan(self, run: RunContext, weights: dict[str, str] | None = None) -> ArtifactRef:
        """Plan the rebalance to `weights` against the account now, and store the plan."""
        allocation = targets(weights or TARGETS, run_id=run.run_id)
        snapshot = take_snapshot(run.run_id, self.adapters, also_quote=allocation.symbols)
        plan = build_plan(allocation, snapshot, PlanSettings(cash_reserve_pct=Decimal(0)))
        return save(self.adapters.store, run.prefix, "rebalance_plan", plan, "plan")


def problems(
    venue: Venue,
    run: RunContext,
    plan_ref: ArtifactRef,
    settings: ExecutionSettings = SETTINGS,
) -> list[str]:
    """Return every way the exchange's order log breaks exactly-once, and ledger mismatches."""
    plan = load(venue.adapters.store, plan_ref, RebalancePlan)
    return order_problems(venue.orders(), plan, run, settings) + ledger_problems(
        venue.ledger(), venue.broker
    )


def order_problems(
    orders: list[dict[str, Any]],
    plan: RebalancePlan,
    run: RunContext,
    settings: ExecutionSettings = SETTINGS,
) -> list[str]:
    """Return how the oracle's orders break one-order-per-id and one-chain-per-intent."""
    found: list[str] = []
    ids = Counter(o["client_order_id"] for o in orders)
    found += [f"{cid} is on the exchange {n} times" for cid, n in ids.items() if n > 1]
    chains: dict[str, tuple[tuple[str, ...], Decimal]] = {}
    for item, side, task_id in [(i, Side.SELL, "execute_sells") for i in plan.sells] + [
        (i, Side.BUY, "execute_buys") for i in plan.buys
    ]:
        chain = walk_ids(run.task(task_id), item.symbol, side, settings)
        chains[f"{side.value} {item.symbol}"] = (chain, item.quantity)
    known = {cid: name for name, (chain, _) in chains.items() for cid in chain}
    found += [
        f"{o['client_order_id']} ({o['side']} {o['symbol']}) is no intent of this run"
        for o in orders
        if o["client_order_id"] not in known
    ]
    for name, (chain, planned) in chains.items():
        mine = [o for o in orders if o["client_order_id"] in chain]
        steps = sorted(chain.index(o["client_order_id"]) for o in mine)
        if steps != list(range(len(steps))):
            found.append(f"{name}: orders at steps {steps}, not one chain from step 0")
        open_ = [o for o in mine if o["status"] in ("new", "accepted", "partially_filled")]
        if len(open_) > 1:
            found.append(f"{name}: {len(open_)} orders open at once")
        filled = sum((Decimal(o["filled_qty"]) for o in mine), Decimal(0))
        if name.startswith("sell") and filled > planned:
            found.append(f"{name}: filled {filled}, more than the planned {planned}")
    return found


def ledger_problems(
    ledger: TradeLedger, broker: AlpacaBroker, session: date = SESSION
) -> list[str]:
    """Return how the ledger and the broker differ (empty when they agree)."""
    entries = ledger.entries(session)
    since = datetime.combine(session, time(0), NEW_YORK)
    broker_orders = broker.list_orders(since, f"{PREFIX}-")
    differences = compare(entries, broker_orders)
    found = [] if differences.clean else [differences.describe()]
    missing = {o.client_order_id for o in broker_orders} - {e.client_order_id for e in entries}
    found += [f"{cid}: at the broker, not in the ledger" for cid in sorted(missing)]
    return found
