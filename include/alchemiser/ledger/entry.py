"""One ledger entry per order intent: intended -> submitted -> terminal, never backwards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.types import Frozen, Price, Quantity
from alchemiser.ledger.ids import TaskKey


class LedgerState(StrEnum):
    """Where an intent is in its life."""

    INTENDED = "intended"
    SUBMITTED = "submitted"
    TERMINAL = "terminal"


_ORDER = {LedgerState.INTENDED: 0, LedgerState.SUBMITTED: 1, LedgerState.TERMINAL: 2}


class LedgerEvent(Frozen):
    """A transition, with when it happened and which run and task wrote it."""

    state: LedgerState
    at: AwareDatetime
    run_id: str
    task_id: str
    detail: str = ""


RejectionKind = Literal["retryable", "final", "not_tradable"]


class Rejection(Frozen):
    """What the broker said when it refused an intent, and whether a retry could change it."""

    status: int | None = Field(default=None, description="HTTP status")
    code: int | None = Field(default=None, description="the broker's error code")
    message: str
    kind: RejectionKind = Field(
        default="retryable",
        description="final and not_tradable rejections are raised again, never re-sent",
    )

    @property
    def final(self) -> bool:
        """Return True when no retry may send the intent again."""
        return self.kind != "retryable"


class LedgerEntry(Frozen):
    """The durable record of one order intent and what the broker did with it."""

    schema_version: int = Field(default=1, ge=1)
    account_id: str = Field(min_length=1)
    session: date
    task: TaskKey
    intent: OrderIntent
    state: LedgerState
    broker_order_id: str | None = None
    status: OrderStatus | None = None
    filled_qty: Quantity = Decimal(0)
    filled_avg_price: Price | None = None
    rejection: Rejection | None = None
    events: tuple[LedgerEvent, ...] = ()

    @property
    def client_order_id(self) -> str:
        """Return the intent's client order id."""
        return self.intent.client_order_id

    def advanced(self, result: OrderResult, event: LedgerEvent) -> LedgerEntry:
        """Return this entry moved forward by what the broker reports (never backwards)."""
        state = LedgerState.TERMINAL if result.is_terminal else LedgerState.SUBMITTED
        if _ORDER[state] < _ORDER[self.state]:
            return self
        return self.model_copy(
            update={
                "state": state,
                "broker_order_id": result.broker_order_id,
                "status": result.status,
                "filled_qty": result.filled_qty,
                "filled_avg_price": result.filled_avg_price,
                "events": (*self.events, event.model_copy(update={"state": state})),
            }
        )
