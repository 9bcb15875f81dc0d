"""Reconciliation: the ledger and the broker must tell the same story, or the task stops.

Run at the start and the end of each execution task. Orders with this system's id prefix that
the ledger does not know, ledger orders the broker does not have, and terminal fills that
disagree fail the task closed with the exact differences. Ledger entries that are merely behind
(a crashed try never recorded the fill) are brought forward, never canceled or re-sent.
"""

from __future__ import annotations

from datetime import date, datetime, time

import structlog
from pydantic import Field

from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.orders import OrderResult
from alchemiser.domain.sessions import NEW_YORK
from alchemiser.domain.types import Frozen
from alchemiser.ledger.entry import LedgerEntry, LedgerState
from alchemiser.ledger.ids import PREFIX, TaskKey
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ports import Broker

log = structlog.get_logger(__name__)


class ReconciliationError(AlchemiserError):
    """The ledger and the broker disagree."""


class Differences(Frozen):
    """What does not match, each line naming the order and both sides' numbers."""

    unknown: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    orders: tuple[OrderResult, ...] = Field(
        default=(), description="the broker's orders of the session, as listed"
    )

    @property
    def clean(self) -> bool:
        """Return True when ledger and broker agree."""
        return not (self.unknown or self.missing or self.mismatched)

    def describe(self) -> str:
        """Return the differences as one message."""
        parts = []
        for name, lines in (
            ("unknown to the ledger", self.unknown),
            ("missing at the broker", self.missing),
            ("fills disagree", self.mismatched),
        ):
            if lines:
                parts.append(f"{name}: " + "; ".join(lines))
        return " | ".join(parts) or "ledger and broker agree"


def advice(differences: Differences, location: str, session: date) -> str:
    """Return what a difference most likely means and what to do, naming the ledger read."""
    text = ""
    if differences.unknown:
        text += (
            f"\n\nThe broker has {len(differences.unknown)} order(s) of this system for "
            f"{session} that the ledger read from {location} does not record. These orders "
            "were placed with other state: most likely that state was reset (a new or cleaned "
            "local state folder, `make reset-state`, another bucket) or another machine or "
            "deployment trades this account with state of its own. Fix: point this deployment "
            "at the state that placed them (Variable alchemiser_state_dir, or "
            "alchemiser_bucket and aws_default). If that state is gone, leave this session: "
            "reconciliation covers one session's orders, so the next session starts clean."
        )
    if differences.missing:
        text += (
            f"\n\nThe ledger at {location} records orders the broker does not have: most "
            "likely it points at another account, or the paper account was reset while the "
            "ledger was kept. Fix: point alpaca_default at the account those orders went to, "
            "or start the ledger afresh with the account."
        )
    return text


def compare(entries: tuple[LedgerEntry, ...], orders: tuple[OrderResult, ...]) -> Differences:
    """Return how the ledger's entries and the broker's orders differ (pure)."""
    by_id = {o.client_order_id: o for o in orders}
    known = {e.client_order_id: e for e in entries}
    unknown = tuple(
        f"{o.client_order_id} ({o.side} {o.symbol}, {o.status.value})"
        for cid, o in sorted(by_id.items())
        if cid not in known
    )
    missing = tuple(
        f"{e.client_order_id} (ledger {e.state.value}, broker id {e.broker_order_id})"
        for e in entries
        if e.broker_order_id is not None and e.client_order_id not in by_id
    )
    mismatched = tuple(
        f"{e.client_order_id}: ledger {e.status} {e.filled_qty}, broker "
        f"{by_id[e.client_order_id].status.value} {by_id[e.client_order_id].filled_qty}"
        for e in entries
        if e.state is LedgerState.TERMINAL
        and e.client_order_id in by_id
        and (
            e.filled_qty != by_id[e.client_order_id].filled_qty
            or e.status != by_id[e.client_order_id].status
        )
    )
    return Differences(unknown=unknown, missing=missing, mismatched=mismatched)


def reconcile(ledger: TradeLedger, broker: Broker, session: date, task: TaskKey) -> Differences:
    """Bring lagging entries forward, then fail closed on any remaining difference."""
    since = datetime.combine(session, time(0), NEW_YORK)
    orders = broker.list_orders(since, f"{PREFIX}-")
    by_id = {o.client_order_id: o for o in orders}
    for entry in ledger.entries(session):
        order = by_id.get(entry.client_order_id)
        if order is None and entry.broker_order_id is not None:
            # Older than the list window, perhaps: ask for it by id before calling it missing.
            order = broker.get_order_by_client_id(entry.client_order_id)
            if order is not None:
                by_id[order.client_order_id] = order
        if order is not None and entry.state is not LedgerState.TERMINAL:
            ledger.record(session, task, order)
    differences = compare(ledger.entries(session), tuple(by_id.values()))
    if not differences.clean:
        log.error("reconciliation failed", run_id=task.run_id, differences=differences.describe())
        raise ReconciliationError(
            f"ledger of {ledger.account_id} for {session} does not match the broker; nothing "
            f"more placed: {differences.describe()}"
            + advice(differences, ledger.location(session), session)
        )
    log.info("reconciled", run_id=task.run_id, session=str(session), orders=len(by_id))
    return differences.model_copy(update={"orders": tuple(by_id.values())})
