"""Cancel whatever of one run is still working at the broker, and record it in the ledger.

The run's orders are found through the ledger (every order is recorded as intended before the
request that creates it, replacements included), never by listing the account: another run's
orders, or an operator's, are never touched. Called by the run's teardown after the last try
of any execution task, and by an execution task that is killed on its last try.
"""

from __future__ import annotations

import structlog
from pydantic import Field

from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.orders import OrderStatus
from alchemiser.domain.report import NOTHING_LEFT_OPEN
from alchemiser.domain.types import Frozen
from alchemiser.execution.orders import cancel, wait_for_terminal
from alchemiser.ledger.entry import LedgerEntry, LedgerState
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ports import Broker, Clock
from alchemiser.services.context import RunContext

log = structlog.get_logger(__name__)

CANCEL_WAIT_SECONDS = 15.0
"""How long a cancel may take to become final before the order is reported as still open."""
CANCEL_POLL_SECONDS = 0.5


class CleanupIncompleteError(AlchemiserError):
    """Orders of the run are still open after the cleanup: retried, then left to a human."""

    def __init__(self, message: str, *, report: str | None = None) -> None:
        super().__init__(message)
        self.report = report
        """Where the report written before this error is: the failure notification links it."""


class CleanupResult(Frozen):
    """What the cleanup found open and what it did about it."""

    reason: str
    canceled: tuple[str, ...] = Field(default=(), description="client order ids canceled now")
    never_placed: tuple[str, ...] = Field(
        default=(), description="intents the broker never received (closed in the ledger)"
    )
    still_open: tuple[str, ...] = Field(
        default=(), description="orders still open after the cancel wait: look at the broker"
    )

    @property
    def clean(self) -> bool:
        """Return True when nothing of the run is left open."""
        return not self.still_open

    def describe(self) -> str:
        """Return what happened in one line."""
        if not (self.canceled or self.never_placed or self.still_open):
            return NOTHING_LEFT_OPEN
        parts = []
        if self.canceled:
            parts.append(f"canceled {len(self.canceled)}: {', '.join(self.canceled)}")
        if self.never_placed:
            parts.append(f"{len(self.never_placed)} intents never placed")
        if self.still_open:
            parts.append(f"STILL OPEN {len(self.still_open)}: {', '.join(self.still_open)}")
        return "; ".join(parts) + f" ({self.reason})"


def open_entries(
    ledger: TradeLedger, run: RunContext, task_id: str | None = None
) -> tuple[LedgerEntry, ...]:
    """Return this run's ledger entries (of one task, if given) not yet terminal."""
    return tuple(
        e
        for e in ledger.entries(run.session)
        if e.task.run_id == run.run_id
        and (task_id is None or e.task.task_id == task_id)
        and e.state is not LedgerState.TERMINAL
    )


def cancel_run_orders(
    run: RunContext,
    ledger: TradeLedger,
    broker: Broker,
    clock: Clock,
    reason: str,
    *,
    task_id: str | None = None,
    wait_seconds: float = CANCEL_WAIT_SECONDS,
) -> CleanupResult:
    """Cancel every open order of `run` (of one task, if given), wait, record the outcome."""
    pending = open_entries(ledger, run, task_id)
    if not pending:
        return CleanupResult(reason=reason)
    never_placed: list[str] = []
    watched: dict[str, LedgerEntry] = {}
    for entry in pending:
        order = broker.get_order_by_client_id(entry.client_order_id)
        if order is None:
            # Recorded, then the process died before the broker answered: it never existed.
            ledger.close_unplaced(run.session, entry.task, entry.client_order_id, reason)
            never_placed.append(entry.client_order_id)
            continue
        watched[entry.client_order_id] = entry
        if not order.is_terminal and cancel(broker, order, run.run_id):
            log.warning(
                "order canceled",
                run_id=run.run_id,
                client_order_id=order.client_order_id,
                why=reason,
            )
    final = (
        wait_for_terminal(broker, list(watched), clock, wait_seconds, CANCEL_POLL_SECONDS)
        if watched
        else ()
    )
    canceled, still_open = [], []
    for order in final:
        cid = order.client_order_id
        ledger.record(run.session, watched[cid].task, order, detail=f"cleanup: {reason}")
        if not order.is_terminal:
            still_open.append(cid)
        elif order.status is OrderStatus.CANCELED:
            canceled.append(cid)
    result = CleanupResult(
        reason=reason,
        canceled=tuple(sorted(canceled)),
        never_placed=tuple(sorted(never_placed)),
        still_open=tuple(sorted(still_open)),
    )
    log_call = log.info if result.clean else log.error
    log_call("run orders cleaned up", run_id=run.run_id, result=result.describe())
    return result
