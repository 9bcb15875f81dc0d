"""The trade ledger on an object store: conditional writes only, so no two writers collide.

Entries are created with create-if-absent before an order is sent and advanced with
compare-and-swap updates after; a crash between any two steps leaves a record the next try
reads back. Phase records make a finished phase return its result without touching the broker;
the session lease keeps two runs from trading one account at once (a crashed holder's lease
expires); the rebalanced marker makes a second run for a session plan but not trade.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import structlog
from pydantic import AwareDatetime, ValidationError

from alchemiser.domain.errors import (
    AlchemiserError,
    ArtifactNotFoundError,
    ObjectChangedError,
    ObjectExistsError,
)
from alchemiser.domain.keys import entry_key, lease_key, orders_prefix, phase_key, rebalanced_key
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.report import ArtifactRef, object_uri
from alchemiser.domain.types import Frozen
from alchemiser.ledger.cas import compare_and_swap
from alchemiser.ledger.entry import LedgerEntry, LedgerEvent, LedgerState, Rejection
from alchemiser.ledger.ids import TaskKey
from alchemiser.ports import Clock, ObjectStore

log = structlog.get_logger(__name__)

UPDATE_ATTEMPTS = 5


class LedgerConflictError(AlchemiserError):
    """The ledger holds something that contradicts what this task is about to do."""


class LeaseHeldError(AlchemiserError):
    """Another run holds the account's trading lease for this session."""


class PhaseRecord(Frozen):
    """A finished execution phase of one run, and where its result is."""

    run_id: str
    task_id: str
    result: ArtifactRef
    completed_at: AwareDatetime


class Lease(Frozen):
    """Who may trade the account in a session, until when."""

    run_id: str
    acquired_at: AwareDatetime
    expires_at: AwareDatetime


class Rebalanced(Frozen):
    """The run that rebalanced a session."""

    run_id: str
    at: AwareDatetime


class TradeLedger:
    """Order intents, phases, the lease and the rebalanced marker of one account."""

    def __init__(self, store: ObjectStore, account_id: str, clock: Clock) -> None:
        self._store = store
        self.account_id = account_id
        self._clock = clock

    def intend(self, session: date, task: TaskKey, intent: OrderIntent) -> LedgerEntry:
        """Record an intent before it is sent; return the existing entry if there is one."""
        return self.intend_once(session, task, intent)[0]

    def intend_once(
        self, session: date, task: TaskKey, intent: OrderIntent
    ) -> tuple[LedgerEntry, bool]:
        """Record an intent; return the entry and whether this call created it."""
        entry = LedgerEntry(
            account_id=self.account_id,
            session=session,
            task=task,
            intent=intent,
            state=LedgerState.INTENDED,
            events=(self._event(LedgerState.INTENDED, task),),
        )
        key = entry_key(self.account_id, session, intent.client_order_id)
        try:
            self._store.create(key, entry.model_dump_json(indent=2).encode())
        except ObjectExistsError:
            existing = self._entry(key)
            if (existing.intent.symbol, existing.intent.side) != (intent.symbol, intent.side):
                raise LedgerConflictError(
                    f"{intent.client_order_id}: ledger holds {existing.intent.side} "
                    f"{existing.intent.symbol}, not {intent.side} {intent.symbol}"
                ) from None
            return existing, False
        log.info("intent recorded", run_id=intent.run_id, client_order_id=intent.client_order_id)
        return entry, True

    def record(
        self, session: date, task: TaskKey, result: OrderResult, *, detail: str = ""
    ) -> LedgerEntry:
        """Advance an entry with the broker's view of its order (compare-and-swap, retried).

        `detail` says who moved it and why (e.g. the teardown's cleanup); it is kept on the
        event only when the entry actually changes.
        """
        event = self._event(LedgerState.SUBMITTED, task).model_copy(update={"detail": detail})
        return self._update(session, result.client_order_id, lambda e: e.advanced(result, event))

    def reject(
        self,
        session: date,
        task: TaskKey,
        client_order_id: str,
        reason: str,
        rejection: Rejection | None = None,
    ) -> None:
        """Close an intent the broker refused (it never became an order), with what it said."""
        closed = {
            "status": OrderStatus.REJECTED,
            "rejection": rejection or Rejection(message=reason),
        }
        self._close(session, task, client_order_id, reason, closed)

    def close_unplaced(
        self, session: date, task: TaskKey, client_order_id: str, reason: str
    ) -> None:
        """Close an intent the broker never received (its try died before the request)."""
        self._close(session, task, client_order_id, f"never placed; closed by cleanup: {reason}")

    def _close(
        self,
        session: date,
        task: TaskKey,
        client_order_id: str,
        detail: str,
        update: dict[str, object] | None = None,
    ) -> None:
        """Make a still-intended entry terminal (one that moved on is left as it is)."""
        event = self._event(LedgerState.TERMINAL, task).model_copy(update={"detail": detail})

        def close(entry: LedgerEntry) -> LedgerEntry:
            if entry.state is not LedgerState.INTENDED:
                return entry
            return entry.model_copy(
                update={
                    **(update or {}),
                    "state": LedgerState.TERMINAL,
                    "events": (*entry.events, event),
                }
            )

        self._update(session, client_order_id, close)

    def _update(
        self, session: date, client_order_id: str, change: Callable[[LedgerEntry], LedgerEntry]
    ) -> LedgerEntry:
        key = entry_key(self.account_id, session, client_order_id)
        updated = compare_and_swap(
            self._store, key, partial(_parse, key), change, attempts=UPDATE_ATTEMPTS, indent=2
        )
        if updated is None:
            raise LedgerConflictError(f"{key}: still changing after {UPDATE_ATTEMPTS} attempts")
        return updated

    def get(self, session: date, client_order_id: str) -> LedgerEntry | None:
        """Return the entry of a client order id, if any."""
        key = entry_key(self.account_id, session, client_order_id)
        try:
            return self._entry(key)
        except ArtifactNotFoundError:
            return None

    def location(self, session: date) -> str:
        """Return where this ledger keeps a session's orders (an s3:// or file:// address)."""
        return object_uri(self._store.bucket, orders_prefix(self.account_id, session))

    def entries(self, session: date) -> tuple[LedgerEntry, ...]:
        """Return every entry of a session, by client order id."""
        keys = self._store.list_keys(orders_prefix(self.account_id, session))
        return tuple(self._entry(k) for k in keys)

    def complete_phase(self, session: date, run_id: str, task_id: str, result: ArtifactRef) -> None:
        """Record that a run's phase finished (first writer wins; a rewrite is a no-op)."""
        record = PhaseRecord(
            run_id=run_id, task_id=task_id, result=result, completed_at=self._clock.now()
        )
        try:
            self._store.create(
                phase_key(self.account_id, session, run_id, task_id),
                record.model_dump_json(indent=2).encode(),
            )
        except ObjectExistsError:
            return

    def completed_phase(self, session: date, run_id: str, task_id: str) -> PhaseRecord | None:
        """Return the record of a finished phase, if it finished."""
        key = phase_key(self.account_id, session, run_id, task_id)
        try:
            return PhaseRecord.model_validate_json(self._store.get(key))
        except ArtifactNotFoundError:
            return None

    def has_traded(self, session: date, run_id: str) -> bool:
        """Return True when `run_id` has recorded any order intent for the session."""
        return any(e.task.run_id == run_id for e in self.entries(session))

    def acquire_lease(self, session: date, run_id: str, ttl: timedelta) -> Lease:
        """Take (or renew) the session's trading lease; an expired one is taken over."""
        key = lease_key(self.account_id, session)
        now = self._clock.now()
        lease = Lease(run_id=run_id, acquired_at=now, expires_at=now + ttl)
        body = lease.model_dump_json().encode()
        try:
            self._store.create(key, body)
            return lease
        except ObjectExistsError:
            pass
        current_body, etag = self._store.read(key)
        current = Lease.model_validate_json(current_body)
        if current.run_id != run_id and current.expires_at > now:
            raise LeaseHeldError(
                f"run {current.run_id} holds the trading lease of account {self.account_id} "
                f"for {session} until {current.expires_at.isoformat()}"
            )
        try:
            self._store.replace(key, body, etag)
        except ObjectChangedError as exc:
            raise LeaseHeldError(f"lease of {session} was taken while being renewed") from exc
        return lease

    def release_lease(self, session: date, run_id: str) -> None:
        """Give the lease up early (expire it now) if this run holds it."""
        key = lease_key(self.account_id, session)
        try:
            body, etag = self._store.read(key)
        except ArtifactNotFoundError:
            return
        current = Lease.model_validate_json(body)
        if current.run_id != run_id:
            return
        expired = current.model_copy(update={"expires_at": self._clock.now()})
        try:
            self._store.replace(key, expired.model_dump_json().encode(), etag)
        except ObjectChangedError:
            return  # taken over meanwhile: nothing of ours to release

    def mark_rebalanced(self, session: date, run_id: str) -> Rebalanced:
        """Record that `run_id` rebalanced the session; return the first run that did."""
        marker = Rebalanced(run_id=run_id, at=self._clock.now())
        key = rebalanced_key(self.account_id, session)
        try:
            self._store.create(key, marker.model_dump_json().encode())
        except ObjectExistsError:
            return Rebalanced.model_validate_json(self._store.get(key))
        return marker

    def rebalanced_by(self, session: date) -> Rebalanced | None:
        """Return the run that already rebalanced the session, if any."""
        try:
            return Rebalanced.model_validate_json(
                self._store.get(rebalanced_key(self.account_id, session))
            )
        except ArtifactNotFoundError:
            return None

    def _entry(self, key: str) -> LedgerEntry:
        return _parse(key, self._store.get(key))

    def _event(self, state: LedgerState, task: TaskKey) -> LedgerEvent:
        return LedgerEvent(
            state=state, at=self._clock.now(), run_id=task.run_id, task_id=task.task_id
        )


def _parse(key: str, body: bytes) -> LedgerEntry:
    try:
        return LedgerEntry.model_validate_json(body)
    except ValidationError as exc:
        raise LedgerConflictError(f"{key} is not a valid ledger entry: {exc}") from exc
