"""Submit orders idempotently, cancel them, and wait for them with batch polling and a deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog

from alchemiser.domain.errors import DuplicateClientOrderIdError, OrderRejectedError
from alchemiser.domain.orders import OrderIntent, OrderResult
from alchemiser.ports import Broker, Clock

log = structlog.get_logger(__name__)


def submit_once(broker: Broker, intent: OrderIntent, *, looked_up: bool = False) -> OrderResult:
    """Place `intent` unless the broker already has an order under its client order id.

    The lookup first makes a retried task adopt what an earlier try placed (`looked_up` skips
    it when the caller already searched for the id in a batch); the duplicate-id rejection
    (which alpaca-py's own retry of a lost response can trigger) is resolved by the same
    lookup, never by inventing a new id.
    """
    existing = None if looked_up else broker.get_order_by_client_id(intent.client_order_id)
    if existing is not None:
        log.info("order adopted", run_id=intent.run_id, client_order_id=intent.client_order_id)
        return existing
    try:
        return broker.submit_order(intent)
    except DuplicateClientOrderIdError:
        adopted = broker.get_order_by_client_id(intent.client_order_id)
        if adopted is None:
            raise
        log.info(
            "order adopted after duplicate id",
            run_id=intent.run_id,
            client_order_id=intent.client_order_id,
        )
        return adopted


def cancel(broker: Broker, order: OrderResult, run_id: str) -> bool:
    """Ask the broker to cancel `order`; return False when it refused (logged, not raised).

    A refusal typically means the order filled or was canceled meanwhile; the caller's next look
    at the order says which.
    """
    try:
        broker.cancel_order(order.broker_order_id)
    except OrderRejectedError as exc:
        log.info(
            "cancel refused", run_id=run_id, client_order_id=order.client_order_id, reason=str(exc)
        )
        return False
    return True


def wait_for_terminal(
    broker: Broker,
    client_order_ids: Sequence[str],
    clock: Clock,
    timeout_seconds: float,
    poll_seconds: float,
) -> tuple[OrderResult, ...]:
    """Poll all orders in one call per tick until each is terminal or the deadline passes."""
    deadline = clock.now() + timedelta(seconds=timeout_seconds)
    while True:
        orders = broker.get_orders(client_order_ids)
        if all(o.is_terminal for o in orders) or clock.now() >= deadline:
            return orders
        clock.sleep(poll_seconds)
