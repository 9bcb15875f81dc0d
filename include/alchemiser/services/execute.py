"""execute_sells and execute_buys: place the plan's orders once, wait for them, record them."""

from __future__ import annotations

import logging
from decimal import Decimal

from pydantic import Field

from alchemiser.domain.errors import (
    InsufficientBuyingPowerError,
    MarketClosedError,
    OrderRejectedError,
    PhaseFailedError,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, PhaseResult, phase_status
from alchemiser.domain.plan import RebalancePlan, Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import Frozen, Money
from alchemiser.execution.orders import submit_once, wait_for_terminal
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.execution.sizing import buy_intent, buy_scale
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ports import Adapters, Broker
from alchemiser.services.artifacts import load, save
from alchemiser.services.context import RunContext

log = logging.getLogger(__name__)


class SellsOutput(Frozen):
    """What execute_sells hands the settlement sensor and the buys."""

    phase: ArtifactRef
    client_order_ids: tuple[str, ...]
    baseline_budget: Money = Field(description="buying budget just before the sells")


def execute_sells(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
) -> SellsOutput:
    """Sell what the plan sells (closing positions exactly), then wait for the fills."""
    broker, store = adapters.broker, adapters.store
    plan = load(store, plan_ref, RebalancePlan)
    _require_open_market(broker)
    baseline = broker.get_account()
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
    phase, rejections = _run_phase(
        run, "sells", plan, intents, adapters=adapters, settings=settings, budget=None
    )
    ref = save(store, run.prefix, "phase_sells", phase, phase.message)
    if rejections:
        raise PhaseFailedError(f"sells: {len(rejections)} rejected: {'; '.join(rejections)}")
    return SellsOutput(
        phase=ref,
        client_order_ids=tuple(i.client_order_id for i in intents),
        baseline_budget=max(Decimal(0), min(baseline.cash, baseline.non_marginable_buying_power)),
    )


def execute_buys(
    run: RunContext,
    task: TaskKey,
    plan_ref: ArtifactRef,
    adapters: Adapters,
    settings: ExecutionSettings,
) -> ArtifactRef:
    """Buy what the plan buys, scaled down to the buying budget actually available now."""
    broker, store = adapters.broker, adapters.store
    plan = load(store, plan_ref, RebalancePlan)
    _require_open_market(broker)
    account = broker.get_account()
    budget = max(Decimal(0), min(account.cash, account.non_marginable_buying_power))
    spendable = budget - plan.cash_reserve
    planned = sum((item.trade_amount for item in plan.buys), Decimal(0))
    scale = buy_scale(planned, spendable)
    intents = [
        intent
        for item in plan.buys
        if (
            intent := buy_intent(
                item, scale, client_order_id(task, item.symbol, Side.BUY), run.run_id
            )
        )
        is not None
    ]
    if plan.buys and not intents:
        raise InsufficientBuyingPowerError(
            f"buys of {planned} planned but only {spendable} spendable "
            f"(budget {budget} less reserve {plan.cash_reserve}): nothing bought"
        )
    phase, rejections = _run_phase(
        run, "buys", plan, intents, adapters=adapters, settings=settings, budget=budget
    )
    ref = save(store, run.prefix, "phase_buys", phase, phase.message)
    if rejections:
        raise PhaseFailedError(f"buys: {len(rejections)} rejected: {'; '.join(rejections)}")
    return ref


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
    budget: Decimal | None,
) -> tuple[PhaseResult, list[str]]:
    broker, clock = adapters.broker, adapters.clock
    started = clock.now()
    placed: list[OrderResult] = []
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
                extra={"run_id": run.run_id, "client_order_id": intent.client_order_id},
            )
    final = wait_for_terminal(
        broker,
        [o.client_order_id for o in placed],
        clock,
        settings.fill_timeout_seconds,
        settings.poll_interval_seconds,
    )
    status = phase_status(final, planned=len(intents))
    filled = sum((o.filled_value for o in final), Decimal(0))
    message = f"{len(final)}/{len(intents)} orders placed, {filled:.2f} filled, status {status}"
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
    log.info(message, extra={"run_id": run.run_id, "phase": name})
    return phase, rejections
