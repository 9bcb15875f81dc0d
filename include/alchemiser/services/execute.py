"""execute_sells and execute_buys: place the plan's orders once, wait for them, record them.

Both are safe to re-run for the same task instance (a retry, a clear from the UI): orders are
keyed by client order ids derived from the task-instance key, those already at the broker are
adopted rather than re-sized or re-sent, and the sells' settlement baseline comes from the plan,
not from an account that an earlier try's fills have already changed.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from pydantic import Field

from alchemiser.domain.errors import (
    InsufficientBuyingPowerError,
    MarketClosedError,
    OrderRejectedError,
    PhaseFailedError,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, PhaseResult, phase_status
from alchemiser.domain.plan import PlanItem, RebalancePlan, Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import Frozen, Money
from alchemiser.execution.orders import submit_once, wait_for_terminal
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.sizing import buy_intent, buy_scale
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ports import Adapters, Broker
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext

log = structlog.get_logger(__name__)


class SellsOutput(Frozen):
    """What execute_sells hands the settlement sensor and the buys."""

    phase: ArtifactRef
    client_order_ids: tuple[str, ...]
    baseline_budget: Money = Field(description="buying budget before this run's sells")


def execute_sells(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
) -> SellsOutput:
    """Sell what the plan sells (closing positions exactly), then wait for the fills."""
    plan = _load_for_trading(adapters, plan_ref)
    intents = [
        OrderIntent(
            client_order_id=client_order_id(task, item.symbol, Side.SELL),
            run_id=run.run_id,
            symbol=item.symbol,
            side=Side.SELL,
            qty=item.quantity,
        )
        for item in plan.sells
    ]
    ref = _run_phase(run, "sells", plan, intents, adapters=adapters, settings=settings)
    return SellsOutput(
        phase=ref,
        client_order_ids=tuple(i.client_order_id for i in intents),
        baseline_budget=plan.buying_budget,
    )


def execute_buys(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
) -> ArtifactRef:
    """Buy what the plan buys, scaled down to the buying budget actually available now."""
    plan = _load_for_trading(adapters, plan_ref)
    broker = adapters.broker
    ids = {item.symbol: client_order_id(task, item.symbol, Side.BUY) for item in plan.buys}
    adopted = {s: o for s, cid in ids.items() if (o := broker.get_order_by_client_id(cid))}
    todo = [item for item in plan.buys if item.symbol not in adopted]
    budget = broker.get_account().buying_budget
    intents = _size_buys(run, todo, ids, budget - plan.cash_reserve)
    if todo and not intents:
        raise InsufficientBuyingPowerError(
            f"buys of {sum(i.trade_amount for i in todo)} planned but only "
            f"{budget - plan.cash_reserve} spendable (budget {budget} less reserve "
            f"{plan.cash_reserve}): nothing bought"
        )
    return _run_phase(
        run,
        "buys",
        plan,
        intents,
        adapters=adapters,
        settings=settings,
        adopted=tuple(adopted.values()),
        budget=budget,
    )


def _size_buys(
    run: RunContext, items: list[PlanItem], ids: dict[str, str], spendable: Decimal
) -> list[OrderIntent]:
    scale = buy_scale(sum((i.trade_amount for i in items), Decimal(0)), spendable)
    sized = (buy_intent(item, scale, ids[item.symbol], run.run_id) for item in items)
    return [intent for intent in sized if intent is not None]


def _load_for_trading(adapters: Adapters, plan_ref: ArtifactRef) -> RebalancePlan:
    plan = load(adapters.store, plan_ref, RebalancePlan)
    _require_open_market(adapters.broker)
    return plan


def _require_open_market(broker: Broker) -> None:
    clock = broker.get_clock()
    if not clock.is_open:
        raise MarketClosedError(
            f"market closed at {clock.timestamp.isoformat()} (next open "
            f"{clock.next_open.isoformat()}): no orders placed"
        )


def _run_phase(
    run: RunContext,
    name: str,
    plan: RebalancePlan,
    intents: list[OrderIntent],
    *,
    adapters: Adapters,
    settings: ExecutionSettings,
    adopted: tuple[OrderResult, ...] = (),
    budget: Decimal | None = None,
) -> ArtifactRef:
    """Place, wait, write the phase artifact; fail after writing it if anything was rejected."""
    broker, clock = adapters.broker, adapters.clock
    started = clock.now()
    placed: list[OrderResult] = list(adopted)
    rejections: list[str] = []
    for intent in intents:
        try:
            placed.append(submit_once(broker, intent))
        except OrderRejectedError as exc:
            # Record and go on: the other orders of the phase are independent, and the phase
            # fails below with every rejection named, after the artifact is written.
            rejections.append(f"{intent.symbol} ({intent.client_order_id}): {exc}")
            log.error(
                "order rejected",
                run_id=run.run_id,
                client_order_id=intent.client_order_id,
                reason=str(exc),
            )
    final = wait_for_terminal(
        broker,
        [o.client_order_id for o in placed],
        clock,
        settings.fill_timeout_seconds,
        settings.poll_interval_seconds,
    )
    planned = len(plan.sells if name == "sells" else plan.buys)
    status = phase_status(final, planned=planned)
    filled = sum((o.filled_value for o in final), Decimal(0))
    message = f"{len(final)}/{planned} orders placed, {filled:.2f} filled, status {status}"
    if rejections:
        message += f"; rejected: {'; '.join(rejections)}"
    phase = PhaseResult(
        run_id=run.run_id,
        derived_from=(plan.artifact_id,),
        phase="sells" if name == "sells" else "buys",
        status=status,
        started_at=started,
        finished_at=clock.now(),
        budget=budget,
        orders=final,
        message=message,
    )
    log.info(message, run_id=run.run_id, phase=name)
    ref = save(adapters.store, run.prefix, f"phase_{name}", phase, message)
    if rejections:
        raise PhaseFailedError(f"{name}: {len(rejections)} rejected: {'; '.join(rejections)}")
    return ref
