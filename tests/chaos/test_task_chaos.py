"""Chaos through the task code: execute_sells and execute_buys against a misbehaving exchange.

Real paper exchange (one fake clock with our code), real alpaca-py, the trade ledger on a moto
S3 server. Each scenario ends with the harness's checks: one exchange order per client order
id, no intent sent twice, and the ledger matching the broker.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from alchemiser.domain.errors import BrokerError
from alchemiser.domain.orders import OrderIntent, OrderResult
from alchemiser.domain.plan import Side
from alchemiser.ports import Adapters
from alchemiser.services.context import RunContext
from alchemiser.services.execute import execute_buys, execute_sells
from paper_exchange.faults import FaultSet, LostFault, LostMode
from tests.chaos.conftest import StartVenue
from tests.chaos.harness import SETTINGS, Venue, problems, run_context

ORDER_ROUTES = ["POST /v2/orders", "PATCH /v2/orders/{id}"]


def _rebalance(venue: Venue, run: RunContext, adapters: Adapters | None = None) -> None:
    plan = _plan_of(venue, run)
    ports = adapters or venue.adapters
    execute_sells(run, run.task("execute_sells"), plan, ports, SETTINGS)
    execute_buys(run, run.task("execute_buys"), plan, ports, SETTINGS)


_PLANS: dict[tuple[str, str], Any] = {}


def _plan_of(venue: Venue, run: RunContext) -> Any:
    key = (venue.url, run.run_id)
    if key not in _PLANS:
        _PLANS[key] = venue.plan(run)
    return _PLANS[key]


def _traded(venue: Venue) -> set[tuple[str, str]]:
    return {(o["side"], o["symbol"]) for o in venue.orders()}


def test_a_calm_rebalance_passes_every_check(venue: StartVenue) -> None:
    v = venue()
    run = run_context()
    _rebalance(v, run)
    assert _traded(v) == {("sell", "SPY"), ("sell", "QQQ"), ("buy", "XLE"), ("buy", "BIL")}
    assert any(o["status"] == "replaced" for o in v.orders())  # walks stepped: replaces ran
    assert problems(v, run, _plan_of(v, run)) == []


@pytest.mark.parametrize("mode", ["504", "drop"])
def test_order_responses_lost_after_acceptance_are_resolved_by_lookup(
    venue: StartVenue, mode: LostMode
) -> None:
    # Every order POST and replace PATCH is applied, then its response is lost: the transport's
    # retry meets "client_order_id must be unique" (or, for a replace, "already replaced"),
    # and the order is found by its id.
    v = venue(FaultSet(lost_responses=LostFault(mode=mode, rate=1.0, routes=tuple(ORDER_ROUTES))))
    run = run_context()
    _rebalance(v, run)
    injected = v.injected()
    assert injected[f"lost_{mode}"] >= 6  # 4 first orders and their replaces
    assert v.rejected() >= 4  # the duplicate-id refusals of the resent POSTs
    assert _traded(v) == {("sell", "SPY"), ("sell", "QQQ"), ("buy", "XLE"), ("buy", "BIL")}
    assert problems(v, run, _plan_of(v, run)) == []


def test_errors_on_a_fifth_of_requests_and_429_bursts_complete_or_fail_precisely(
    venue: StartVenue,
) -> None:
    v = venue()
    v.faults({"seed": 5, "errors": {"rate": 0.2}, "burst_429": {"count": 4, "retry_after": 0.05}})
    run = run_context()
    failure = ""
    try:
        _rebalance(v, run)
    except BrokerError as exc:
        failure = str(exc)
        v.faults({})
        _rebalance(v, run)  # the re-run of the same task keys completes
    # Either it completed, or it failed only as a precise transport failure after retries.
    assert failure == "" or ("after" in failure and "attempts" in failure), failure
    injected = v.injected()
    assert injected["429"] == 4
    assert injected.get("error_500", 0) + injected.get("error_503", 0) > 5
    assert problems(v, run, _plan_of(v, run)) == []


def test_errors_that_outlast_the_retries_fail_the_task_then_a_rerun_completes(
    venue: StartVenue,
) -> None:
    v = venue()
    run = run_context()
    plan = _plan_of(v, run)
    v.faults({"seed": 1, "errors": {"rate": 1.0, "routes": ["PATCH /v2/orders/{id}"]}})
    with pytest.raises(BrokerError, match=r"replace order with alc-s-.*HTTP 50[03].*4 attempts"):
        execute_sells(run, run.task("execute_sells"), plan, v.adapters, SETTINGS)
    v.faults({})
    _rebalance(v, run)
    assert problems(v, run, plan) == []


class Crash(BaseException):
    """The process dies here: nothing below this point runs, no handler catches it."""


class CrashingBroker:
    """The real broker, except that the process dies at one exact point of one call."""

    def __init__(self, inner: Any, method: str, at: int, *, after: bool) -> None:
        self._inner = inner
        self._method = method
        self._at = at
        self._after = after
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _maybe(self, name: str, forward: Any) -> OrderResult:
        if name != self._method:
            return forward()  # type: ignore[no-any-return]
        self.calls += 1
        if self.calls == self._at and not self._after:
            raise Crash(f"before {name} #{self._at} reached the broker")
        result = forward()
        if self.calls == self._at and self._after:
            raise Crash(f"after {name} #{self._at} was applied, before anything was recorded")
        return result  # type: ignore[no-any-return]

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        return self._maybe("submit_order", lambda: self._inner.submit_order(intent))

    def replace_order(self, broker_order_id: str, client_order_id: str, price: Decimal) -> Any:
        return self._maybe(
            "replace_order",
            lambda: self._inner.replace_order(broker_order_id, client_order_id, price),
        )


@pytest.mark.parametrize(
    ("method", "at", "after", "task"),
    [
        ("submit_order", 2, False, "execute_sells"),  # intent in the ledger, never sent
        ("submit_order", 2, True, "execute_sells"),  # sent and accepted, ledger "intended"
        ("replace_order", 1, False, "execute_sells"),  # replacement intended, PATCH never sent
        ("replace_order", 1, True, "execute_buys"),  # replaced at the broker, ledger not updated
        ("submit_order", 2, True, "execute_buys"),
    ],
)
def test_the_process_dying_around_a_submission_then_the_same_task_rerun(
    venue: StartVenue, method: str, at: int, after: bool, task: str
) -> None:
    v = venue()
    run = run_context()
    plan = _plan_of(v, run)
    crashing = Adapters(
        broker=CrashingBroker(v.broker, method, at=at, after=after),
        market_data=v.adapters.market_data,
        store=v.store,
        clock=v.clock,
    )
    if task == "execute_buys":
        execute_sells(run, run.task("execute_sells"), plan, v.adapters, SETTINGS)
    before = len(v.orders())
    phase: Any = execute_sells if task == "execute_sells" else execute_buys
    with pytest.raises(Crash):
        phase(run, run.task(task), plan, crashing, SETTINGS)
    placed_by_crashed_try = len(v.orders()) - before
    assert placed_by_crashed_try >= 1
    _rebalance(v, run)  # the retry: same task keys, a healthy process
    assert problems(v, run, plan) == []
    assert _traded(v) == {("sell", "SPY"), ("sell", "QQQ"), ("buy", "XLE"), ("buy", "BIL")}


def test_the_checks_catch_an_intent_sent_twice_and_an_unrecorded_order(venue: StartVenue) -> None:
    v = venue()
    run = run_context()
    _rebalance(v, run)
    # What a retry with a fresh id would do: the same sell once more, unknown to the ledger.
    v.broker.submit_order(
        OrderIntent(
            client_order_id="alc-s-SPY-0-again",
            run_id=run.run_id,
            symbol="SPY",
            side=Side.SELL,
            qty=Decimal(1),
        )
    )
    found = problems(v, run, _plan_of(v, run))
    assert any("alc-s-SPY-0-again (sell SPY) is no intent of this run" in p for p in found)
    assert any("alc-s-SPY-0-again" in p and "ledger" in p for p in found)
