"""LedgeredBroker: the Broker port with the trade ledger in front of every order effect.

Every order is recorded as intended before the request that creates it (a submit, or a replace,
which creates a new order under a new client order id), and every state the broker reports
afterwards is written forward. A crash between any two steps leaves a record that the next try
reads: an intent already known to the ledger is looked up at the broker first and adopted if it
exists, and submitted only if it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import structlog

from alchemiser.domain.errors import (
    ArtifactNotFoundError,
    DuplicateClientOrderIdError,
    FinalRejectionError,
    NotTradableError,
    OrderRejectedError,
)
from alchemiser.domain.market import AccountState, AssetInfo, BrokerPosition, MarketClock
from alchemiser.domain.orders import OrderIntent, OrderResult, TopOfBook
from alchemiser.ledger.entry import LedgerState, Rejection, RejectionKind
from alchemiser.ledger.ids import TaskKey
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ports import Broker

log = structlog.get_logger(__name__)


class LedgeredBroker:
    """Delegate to `inner`, journaling every order effect of one task in the ledger."""

    def __init__(
        self,
        inner: Broker,
        ledger: TradeLedger,
        session: date,
        task: TaskKey,
        listed: tuple[OrderResult, ...] | None = None,
    ) -> None:
        self._inner = inner
        self._ledger = ledger
        self._session = session
        self._task = task
        # The session's orders as reconciliation just listed them: the first adoption lookup
        # is answered from here instead of listing again (one request less per phase).
        self._listed = listed
        self._seen: dict[str, tuple[str, Decimal]] = {}
        self._orders: dict[str, OrderResult] = {}

    @property
    def venue(self) -> str:
        """Return the inner broker's venue."""
        return self._inner.venue

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Record the intent, adopt an order an earlier try placed, else submit and record."""
        entry, created = self._ledger.intend_once(self._session, self._task, intent)
        if entry.rejection is not None and entry.rejection.final:
            raise _recorded(intent, entry.rejection)
        if not created:
            existing = self._inner.get_order_by_client_id(intent.client_order_id)
            if existing is not None:
                log.info(
                    "ledger intent adopted",
                    run_id=intent.run_id,
                    client_order_id=intent.client_order_id,
                    ledger_state=entry.state.value,
                )
                return self._observe(existing)
        try:
            result = self._inner.submit_order(intent)
        except OrderRejectedError as exc:
            if not isinstance(exc, DuplicateClientOrderIdError):
                rejection = Rejection(
                    status=exc.status, code=exc.code, message=str(exc), kind=_kind(exc)
                )
                self._ledger.reject(
                    self._session, self._task, intent.client_order_id, str(exc), rejection
                )
            raise
        return self._observe(result)

    def replace_order(
        self, broker_order_id: str, client_order_id: str, limit_price: Decimal
    ) -> OrderResult:
        """Record the replacement's intent (a new order), then replace and record it."""
        current = next(
            (o for o in self._orders.values() if o.broker_order_id == broker_order_id), None
        )
        if current is not None:
            remaining = (current.qty or Decimal(0)) - current.filled_qty
            self._ledger.intend(
                self._session,
                self._task,
                OrderIntent(
                    client_order_id=client_order_id,
                    run_id=self._task.run_id,
                    symbol=current.symbol,
                    side=current.side,
                    order_type="limit",
                    qty=remaining if remaining > 0 else current.qty,
                    limit_price=limit_price,
                ),
            )
        return self._observe(
            self._inner.replace_order(broker_order_id, client_order_id, limit_price)
        )

    def cancel_order(self, broker_order_id: str) -> None:
        """Cancel (the resulting state is recorded when a poll reports it)."""
        self._inner.cancel_order(broker_order_id)

    def get_order_by_client_id(self, client_order_id: str) -> OrderResult | None:
        """Look up one order and record what it says."""
        found = self._inner.get_order_by_client_id(client_order_id)
        return self._observe(found) if found is not None else None

    def get_orders(
        self, client_order_ids: Sequence[str], since: datetime | None = None
    ) -> tuple[OrderResult, ...]:
        """Poll, recording every change."""
        return tuple(self._observe(o) for o in self._inner.get_orders(client_order_ids, since))

    def find_orders(
        self, client_order_ids: Sequence[str], since: datetime
    ) -> dict[str, OrderResult]:
        """Find (adoption), recording what is found."""
        if self._listed is not None:
            wanted = set(client_order_ids)
            found = {o.client_order_id: o for o in self._listed if o.client_order_id in wanted}
            self._listed = None
        else:
            found = self._inner.find_orders(client_order_ids, since)
        return {cid: self._observe(o) for cid, o in found.items()}

    def list_orders(self, since: datetime, prefix: str) -> tuple[OrderResult, ...]:
        """List without recording (reconciliation compares; it does not adopt)."""
        return self._inner.list_orders(since, prefix)

    def get_account(self) -> AccountState:
        """Delegate."""
        return self._inner.get_account()

    def get_positions(self) -> tuple[BrokerPosition, ...]:
        """Delegate."""
        return self._inner.get_positions()

    def get_assets(self, symbols: Sequence[str]) -> tuple[AssetInfo, ...]:
        """Delegate."""
        return self._inner.get_assets(symbols)

    def get_clock(self) -> MarketClock:
        """Delegate."""
        return self._inner.get_clock()

    def get_session_hours(self, session: date) -> tuple[datetime, datetime]:
        """Delegate."""
        return self._inner.get_session_hours(session)

    def get_top_of_book(self, symbols: Sequence[str]) -> dict[str, TopOfBook]:
        """Delegate."""
        return self._inner.get_top_of_book(symbols)

    def _observe(self, result: OrderResult) -> OrderResult:
        """Write a result forward into the ledger when it changed since last seen."""
        self._orders[result.client_order_id] = result
        fingerprint = (result.status.value, result.filled_qty)
        if self._seen.get(result.client_order_id) == fingerprint:
            return result
        try:
            entry = self._ledger.record(self._session, self._task, result)
        except ArtifactNotFoundError:
            # Not one of ours to journal (reconciliation reports unknown orders separately).
            return result
        self._seen[result.client_order_id] = fingerprint
        if entry.state is LedgerState.TERMINAL:
            log.info(
                "ledger terminal",
                run_id=self._task.run_id,
                client_order_id=result.client_order_id,
                status=result.status.value,
                filled_qty=str(result.filled_qty),
            )
        return result


def _kind(error: OrderRejectedError) -> RejectionKind:
    if isinstance(error, NotTradableError):
        return "not_tradable"
    return "final" if isinstance(error, FinalRejectionError) else "retryable"


def _recorded(intent: OrderIntent, rejection: Rejection) -> FinalRejectionError:
    """Return the rejection the ledger recorded for `intent`, raised again instead of re-sent."""
    kind = NotTradableError if rejection.kind == "not_tradable" else FinalRejectionError
    log.info(
        "final rejection recorded: not sent again",
        run_id=intent.run_id,
        client_order_id=intent.client_order_id,
        code=rejection.code,
    )
    return kind(
        f"{rejection.message} (recorded in the ledger as final: not sent again)",
        status=rejection.status,
        code=rejection.code,
    )
