"""The fault matrix of issue 7: each fault mode against the task code, published as a table.

`run_matrix` runs every scenario on its own paper exchange (fake clock shared with our code),
real alpaca-py and the trade ledger on a moto S3 server: execute_sells then execute_buys; on a
failure it records the reason, lifts the fault and re-runs the same task keys (the retry an
operator or Airflow would make). `render` turns the rows into `docs/reliability.md`.

`tests/chaos/test_fault_matrix.py` runs it in `make test` and writes the file; by hand:

    PYTHONPATH=include:. .venv/bin/python -m tests.chaos.reliability
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.plan import RebalancePlan
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.services.artifacts import load
from alchemiser.services.cleanup import cancel_run_orders
from alchemiser.services.execute import execute_buys, execute_sells
from sandbox.processes import start_s3
from tests.chaos.harness import (
    SETTINGS,
    Venue,
    ledger_problems,
    order_problems,
    run_context,
    start_venue,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
ORDER_ROUTES = ["POST /v2/orders", "PATCH /v2/orders/{id}"]
REPLACE_STORM: dict[str, Any] = {
    "errors": {"rate": 1.0, "statuses": [503], "routes": ["PATCH /v2/orders/{id}"]}
}


@dataclass(frozen=True)
class Scenario:
    """One row: a fault set (JSON, as POSTed to /_exchange/faults) and exchange options."""

    name: str
    faults: dict[str, Any] = field(default_factory=dict)
    exchange: dict[str, Any] = field(default_factory=dict)
    expect: str = "completed"
    """`completed`, or a fragment the failure's reason must contain."""
    note: str = ""
    plan_faults: dict[str, Any] | None = None
    """Faults already on while the plan is made (default: planned calmly)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """ExecutionSettings overrides (as Variable `alchemiser_execution` would give them)."""
    rerun_faults: dict[str, Any] = field(default_factory=dict)
    """Faults still on during the re-run (default: lifted): a storm that outlasts the retries."""
    rerun_halt: str = ""
    """The kill switch's reason during the re-run (flipped between tries), if any."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("no faults"),
    Scenario("500/503 on 20% of requests", {"seed": 7, "errors": {"rate": 0.2}}),
    Scenario(
        "500/503 on 20% of requests and 429 bursts",
        {"seed": 3, "errors": {"rate": 0.2}, "burst_429": {"count": 4, "retry_after": 0.05}},
    ),
    Scenario(
        "503 on every replace (retries run out)",
        {"errors": {"rate": 1.0, "statuses": [503], "routes": ["PATCH /v2/orders/{id}"]}},
        expect="replace order with alc-s-",
    ),
    Scenario(
        "503 on every replace, outlasting every try",
        REPLACE_STORM,
        expect="replace order with alc-s-",
        rerun_faults=REPLACE_STORM,
        note="the last try fails too, its first limits still resting: the teardown cancels them",
    ),
    Scenario(
        "kill switch flipped between tries",
        REPLACE_STORM,
        expect="replace order with alc-s-",
        rerun_halt="kill switch on (Variable alchemiser_kill_switch=on)",
        note="the retry adopts the first try's resting limits and cancels them; nothing new sent",
    ),
    Scenario(
        "429 burst of 5 (= max_429_retries)", {"burst_429": {"count": 5, "retry_after": 0.05}}
    ),
    Scenario(
        "429 burst of 8 (beyond max_429_retries)",
        {"burst_429": {"count": 8, "retry_after": 0.05}},
        expect='HTTP 429 {"code": 42910000, "message": "rate limit exceeded"} after 6 attempts',
    ),
    Scenario("slow responses (0.2 s each)", {"delay": {"seconds": 0.2}}),
    Scenario(
        "responses slower than the client timeout",
        {"delay": {"seconds": 1.5, "routes": ["GET /v2/account"]}},
        exchange={"alpaca": {"timeout_seconds": 0.5, "max_retries": 1}},
        expect="get account: timed out (ReadTimeout) after 2 attempts",
    ),
    Scenario(
        "order accepted, response lost (HTML 504)",
        {"lost_responses": {"mode": "504", "rate": 1.0, "routes": ORDER_ROUTES}},
    ),
    Scenario(
        "order accepted, connection dropped",
        {"lost_responses": {"mode": "drop", "rate": 1.0, "routes": ORDER_ROUTES}},
    ),
    Scenario("partial fills (3 per order)", exchange={"partial_fills": 3, "fill_delay_seconds": 3}),
    Scenario(
        "halted symbol (XLE)",
        {"halted": ["XLE"]},
        expect="run ended partial",
        note="the engine applies a halt (not counted as injected): the XLE walk's orders rest "
        "unfilled until the phase deadline cancels them; the recorded partial phase stays "
        "failed on re-run",
    ),
    Scenario(
        "stale quotes (1 day old)",
        {"stale_quotes_seconds": 86_400},
        expect="run ended partial",
        note="no order placed: quotes older than max_quote_age_seconds (60 s, on the broker's "
        "clock) are re-fetched 3 times (0.5, 1, 2 s), then every walk ends held; the held "
        "phases stay recorded on re-run",
    ),
    Scenario(
        "held symbol not tradable at planning (QQQ)",
        {"untradable": ["QQQ"]},
        plan_faults={"untradable": ["QQQ"]},
        expect="QQQ held: the broker reports it not tradable",
        note="QQQ is kept as it is (never sent), SPY, XLE and BIL rebalance with the rest; "
        "partial_policy=fail fails the run after the buys",
    ),
    Scenario(
        "target not tradable at planning (XLE)",
        {"untradable": ["XLE"]},
        plan_faults={"untradable": ["XLE"]},
        expect="XLE held: the broker reports it not tradable",
        note="XLE's 35% stays in cash; the others get their own targets",
    ),
    Scenario(
        "quote crossed for 2 s (SPY), at planning and at the sells",
        {"crossed_quotes": {"symbols": ["SPY"], "seconds": 2}},
        plan_faults={"crossed_quotes": {"symbols": ["SPY"], "seconds": 2}},
        note="re-fetched after 0.5, 1 and 2 s; traded at the recovered quote",
    ),
    Scenario(
        "quote stays crossed (SPY)",
        {"crossed_quotes": {"symbols": ["SPY"]}},
        plan_faults={"crossed_quotes": {"symbols": ["SPY"]}},
        expect="SPY held: no usable quote",
        note="SPY held after 3 re-fetches, never traded on a crossed price; the others trade",
    ),
    Scenario(
        "403 not tradable on a sell mid-phase (QQQ)",
        {"untradable": ["QQQ"]},
        expect="run ended partial",
        note="the QQQ walk ends held on its 403 (one attempt: the exchange's rejected count is "
        "the refusals column), SPY sells, the buys are sized from what was raised",
    ),
    Scenario(
        "HTML instead of JSON (account)",
        {"html": {"routes": ["GET /v2/account"]}},
        expect="get account: response is not JSON",
    ),
    Scenario(
        "missing fields (order list)",
        {"missing_fields": {"GET /v2/orders": ["status"]}},
        expect="list orders: unexpected response shape",
    ),
    Scenario(
        "walks reach their last step (limits inside the spread)",
        exchange={"limit_fill_fraction": None},
        settings={"end_fraction": "0.8"},
        note="no limit step is marketable, so every walk ends with its final order: a limit 50 "
        "bps through the far touch of a fresh quote (final_collar_bps), which fills; no "
        "unpriced market order",
    ),
    Scenario(
        "price runs through the collar (no limit fills)",
        exchange={"limit_fill_fraction": Decimal(2)},
        expect="run ended partial",
        note="the exchange fills no resting limit, collared ones included: each walk's final "
        "limit is canceled after market_fill_seconds and reported (stopped_by collar), the "
        "unfilled rest left to the next session's plan; no market order is sent",
    ),
    Scenario(
        "price moved from the plan's (stale plan)",
        settings={"max_price_move_fraction": "0.0002", "step_interval_seconds": 40},
        exchange={"limit_fill_fraction": Decimal(2)},
        expect="run ended partial",
        note="a tolerance of 2 bps makes the exchange's minute-to-minute drift a runaway: walks "
        "stop (order canceled, stopped_by price_moved, 're-plan') instead of trading",
    ),
    Scenario(
        "slippage over the per-order budget",
        settings={"start_fraction": "1", "max_order_slippage_bps": "0.5"},
        expect="CircuitBreakerError: sells: circuit breaker: ",
        note="fills at the far touch cost half a spread (about 2 bps) against the arrival mid: "
        "the breaker cancels the phase's open orders, writes the phase and fails the task "
        "(not retried by Airflow); the re-run here is an operator's clear with the same budget",
    ),
)


@dataclass(frozen=True)
class Row:
    """What one scenario did."""

    scenario: Scenario
    outcome: str
    reason: str
    rerun: str
    orders: int
    duplicate_refusals: int
    sent_twice: int
    ledger_matches: bool
    problems: tuple[str, ...]
    injected: dict[str, int]
    market_orders: int = 0
    open_after_run: int = 0
    """Orders of the run still open at the exchange when the last try ended."""
    open_after_teardown: int = 0
    """Still open after the teardown's cleanup (must be 0)."""

    @property
    def as_expected(self) -> bool:
        """Return whether the outcome is the one the scenario expects."""
        if self.scenario.expect == "completed":
            return self.outcome == "completed"
        return self.outcome == "failed" and self.scenario.expect in self.reason


def _rebalance(venue: Venue, settings: ExecutionSettings = SETTINGS, halt: str = "") -> None:
    run = run_context()
    plan = _plan(venue)
    stop = (lambda: halt) if halt else (lambda: None)
    sold = execute_sells(run, run.task("execute_sells"), plan, venue.adapters, settings, halt=stop)
    status = load(venue.adapters.store, sold.phase, PhaseResult).status
    execute_buys(
        run,
        run.task("execute_buys"),
        plan,
        venue.adapters,
        settings,
        sells_status=status,
        halt=stop,
    )


OPEN = {"new", "accepted", "partially_filled", "pending_new", "pending_replace"}


def _open(venue: Venue) -> int:
    return sum(1 for o in venue.orders() if o["status"] in OPEN)


_plans: dict[str, Any] = {}


def _plan(venue: Venue) -> Any:
    if venue.url not in _plans:
        _plans[venue.url] = venue.plan(run_context())
    return _plans[venue.url]


def run_scenario(venue: Venue, scenario: Scenario) -> Row:
    """Plan (calmly unless the scenario says), trade with the faults on; on failure, re-run."""
    if scenario.plan_faults is not None:
        venue.faults(scenario.plan_faults)
    _plan(venue)
    settings = ExecutionSettings.model_validate({**SETTINGS.model_dump(), **scenario.settings})
    venue.faults(scenario.faults)
    outcome, reason, rerun = "completed", "", ""
    try:
        _rebalance(venue, settings)
    except AlchemiserError as exc:
        outcome, reason = "failed", f"{type(exc).__name__}: {exc}"
    injected = venue.injected()
    venue.faults(scenario.rerun_faults)
    if outcome == "failed":
        try:
            _rebalance(venue, settings, scenario.rerun_halt)
            rerun = "completed"
        except AlchemiserError as exc:
            rerun = f"failed again: {type(exc).__name__}"
    run = run_context()
    open_after_run = _open(venue)
    # The DAG's teardown (the report task) after the last try, once the broker answers again.
    venue.faults({})
    cancel_run_orders(run, venue.ledger(), venue.broker, venue.clock, "teardown")
    plan = load(venue.adapters.store, _plan(venue), RebalancePlan)
    twice = order_problems(venue.orders(), plan, run, SETTINGS)
    ledger = ledger_problems(venue.ledger(), venue.broker)
    return Row(
        scenario=scenario,
        outcome=outcome,
        reason=reason,
        rerun=rerun,
        orders=len(venue.orders()),
        duplicate_refusals=venue.rejected(),
        sent_twice=len(twice),
        ledger_matches=not ledger,
        problems=tuple(twice + ledger),
        injected=injected,
        market_orders=sum(1 for o in venue.orders() if o["type"] == "market"),
        open_after_run=open_after_run,
        open_after_teardown=_open(venue),
    )


@contextmanager
def s3_client(log_dir: Path) -> Iterator[Any]:
    """Start a moto S3 server and yield a client for it."""
    with start_s3(log_dir) as server:
        yield boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )


def run_matrix(client: Any, scenarios: tuple[Scenario, ...] = SCENARIOS) -> list[Row]:
    """Run every scenario on a fresh exchange and bucket."""
    rows = []
    for n, scenario in enumerate(scenarios):
        options = dict(scenario.exchange)
        venue = start_venue(client, f"matrix-{n}", **options)
        try:
            rows.append(run_scenario(venue, scenario))
        finally:
            venue.exchange.stop()
    return rows


ELAPSED = re.compile(r" in \d+(\.\d+)? s\b")


def _cell(text: str, limit: int = 160) -> str:
    # Elapsed times vary run to run; without them the generated file changes only with behaviour.
    text = ELAPSED.sub("", " ".join(text.split())).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(rows: list[Row]) -> str:
    """Return docs/reliability.md for these rows."""
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `tests/chaos/test_fault_matrix.py` (`make test`) from "
        "`tests/chaos/reliability.py`; do not edit by hand.",
        "",
        "Each scenario trades one rebalance (2 sells, 2 buys; limit walks that fill on their "
        "second step) through `execute_sells` and `execute_buys` against the local paper "
        "exchange with the fault switched on (`POST /_exchange/faults`), through the real "
        "alpaca-py clients, with the trade ledger on a moto S3 server. A failed run is re-run "
        "(same task keys) after the fault is lifted. Rows that name execution settings run with "
        "them (as Variable `alchemiser_execution` would set them). *Orders* is the exchange's "
        "order log (the oracle), replaces included; *unpriced market orders* counts its market "
        "orders (0 on the defaults: a walk's final order is a collared limit); *refusals* are "
        "submissions the exchange refused: resent ones refused as `client_order_id must be "
        "unique` (a lost response's retry, each resolved by a lookup) or a not-tradable 403 "
        "(sent once, never again); *intents sent twice* counts orders outside one chain of "
        "ids per intent (must be 0); *ledger matches* compares every ledger entry with the "
        "broker's order.",
        "",
        "*Open after the run* counts the run's orders still working when its last try ended; "
        "*after the teardown*, once the DAG's teardown (the report task) has canceled them "
        "through the ledger (`services/cleanup.py`): always 0.",
        "",
        "| scenario | outcome | re-run after the fix | orders | unpriced market orders "
        "| refusals | intents sent twice | ledger matches | open after the run "
        "| after the teardown | faults injected | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        outcome = "completed" if row.outcome == "completed" else f"failed: {_cell(row.reason)}"
        injected = ", ".join(f"{k} {v}" for k, v in sorted(row.injected.items())) or "none"
        lines.append(
            f"| {row.scenario.name} | {outcome} | {row.rerun or 'not needed'} | {row.orders} "
            f"| {row.market_orders} | {row.duplicate_refusals} | {row.sent_twice} "
            f"| {'yes' if row.ledger_matches else 'NO'} | {row.open_after_run} "
            f"| {row.open_after_teardown} | {injected} | {_cell(row.scenario.note)} |"
        )
    lines += [
        "",
        "Retry policy (`AlpacaSettings`): 500/502/503/504, dropped connections and timeouts are "
        "retried up to `max_retries` = 3 times after 0.5, 1 and 2 s (doubling, at most 4 s), "
        "only for requests safe to repeat (reads, cancels, orders carrying a client order id); "
        "429s after the wait the server names, up to `max_429_retries` = 5; no wait may end "
        "more than `retry_budget_seconds` = 60 s after the call began. alpaca-py's own "
        "retries are switched off. (The matrix runs with 0.01 s backoffs to stay fast.)",
        "",
    ]
    return "\n".join(lines)


def write(rows: list[Row], path: Path = DOC) -> Path:
    """Write the rendered matrix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rows), encoding="utf-8")
    return path


def main(argv: list[str] | None = None, run: Callable[..., list[Row]] = run_matrix) -> int:
    """Run the matrix with its own S3 server and write docs/reliability.md."""
    log_dir = Path(argv[0]) if argv else Path(".bench") / "reliability"
    with s3_client(log_dir) as client:
        rows = run(client)
    path = write(rows)
    print(f"wrote {path}: {len(rows)} scenarios")  # noqa: T201 - a CLI
    return 0 if all(r.as_expected and r.sent_twice == 0 and r.ledger_matches for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
