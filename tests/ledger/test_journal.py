"""LedgeredBroker and reconciliation: the ledger sees every order effect, and disagreement stops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alchemiser.domain.errors import (
    DuplicateClientOrderIdError,
    NotTradableError,
    OrderRejectedError,
)
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.plan import Side
from alchemiser.ledger.entry import LedgerState, Rejection
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ledger.journal import LedgeredBroker
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ledger.reconcile import ReconciliationError, compare, reconcile
from tests.builders import SESSION, D
from tests.fakes import FakeBroker, FakeClock, FakeStore

TASK = TaskKey(dag_id="daily_rebalance", run_id="manual__1", task_id="execute_buys")
CID = client_order_id(TASK, "SPY", Side.BUY)
INTENT = OrderIntent(client_order_id=CID, run_id="manual__1", symbol="SPY", side=Side.BUY, qty=D(2))


def _setup() -> tuple[FakeBroker, TradeLedger, LedgeredBroker]:
    broker = FakeBroker(prices={"SPY": D(100)}, cash=D(10_000))
    ledger = TradeLedger(FakeStore(), "acct-1", FakeClock())
    return broker, ledger, LedgeredBroker(broker, ledger, SESSION, TASK)


class DiesAfterSubmit(FakeBroker):
    """The order reaches the broker, then the process dies before the ledger hears of it."""

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        super().submit_order(intent)
        raise SystemExit("killed")


def test_the_intent_is_in_the_ledger_before_the_order_and_the_fill_after() -> None:
    broker, ledger, journaled = _setup()
    journaled.submit_order(INTENT)
    entry = ledger.get(SESSION, CID)
    assert entry is not None
    assert entry.state is LedgerState.TERMINAL  # the fake fills at once
    assert (entry.filled_qty, entry.broker_order_id) == (D(2), broker.orders[CID].broker_order_id)
    assert [e.state for e in entry.events] == ["intended", "terminal"]


def test_a_crash_between_submit_and_ledger_update_is_adopted_not_resent() -> None:
    store, clock = FakeStore(), FakeClock()
    dying = DiesAfterSubmit(prices={"SPY": D(100)}, cash=D(10_000))
    ledger = TradeLedger(store, "acct-1", clock)
    with pytest.raises(SystemExit):
        LedgeredBroker(dying, ledger, SESSION, TASK).submit_order(INTENT)
    assert ledger.get(SESSION, CID).state is LedgerState.INTENDED  # type: ignore[union-attr]
    retry = FakeBroker(prices={"SPY": D(100)}, cash=D(10_000), orders=dying.orders)
    result = LedgeredBroker(retry, ledger, SESSION, TASK).submit_order(INTENT)
    assert retry.submissions == []  # adopted from the broker, not submitted again
    assert result.client_order_id == CID
    assert ledger.get(SESSION, CID).state is LedgerState.TERMINAL  # type: ignore[union-attr]


def test_a_crash_between_ledger_write_and_submit_submits_on_retry() -> None:
    broker, ledger, _ = _setup()
    ledger.intend(SESSION, TASK, INTENT)  # the first try wrote the intent, then died
    LedgeredBroker(broker, ledger, SESSION, TASK).submit_order(INTENT)
    assert broker.submissions == [CID]


def test_a_rejected_order_is_closed_in_the_ledger_with_the_reason() -> None:
    broker, ledger, journaled = _setup()
    broker.reject["SPY"] = OrderRejectedError(
        "insufficient buying power", status=403, code=40310000
    )
    with pytest.raises(OrderRejectedError):
        journaled.submit_order(INTENT)
    entry = ledger.get(SESSION, CID)
    assert entry is not None
    assert (entry.state, entry.status) == (LedgerState.TERMINAL, OrderStatus.REJECTED)
    assert "insufficient buying power" in entry.events[-1].detail


def test_a_duplicate_id_refusal_leaves_the_intent_open_for_adoption() -> None:
    # The broker has the order (an earlier try's lost response): it is not a rejection.
    broker, ledger, journaled = _setup()
    broker.reject["SPY"] = DuplicateClientOrderIdError(
        "client_order_id must be unique", status=422, code=40010001
    )
    with pytest.raises(DuplicateClientOrderIdError):
        journaled.submit_order(INTENT)
    entry = ledger.get(SESSION, CID)
    assert entry is not None
    assert (entry.state, entry.rejection) == (LedgerState.INTENDED, None)


def test_reconciliation_passes_when_ledger_and_broker_agree() -> None:
    broker, ledger, journaled = _setup()
    journaled.submit_order(INTENT)
    assert reconcile(ledger, broker, SESSION, TASK).clean


def test_an_order_the_ledger_does_not_know_fails_closed() -> None:
    broker, ledger, _ = _setup()
    broker.submit_order(INTENT)  # placed behind the ledger's back
    with pytest.raises(ReconciliationError, match=f"unknown to the ledger: {CID} \\(buy SPY"):
        reconcile(ledger, broker, SESSION, TASK)


def test_an_order_the_broker_lost_and_a_fill_mismatch_are_named() -> None:
    broker, ledger, journaled = _setup()
    journaled.submit_order(INTENT)
    entry = ledger.get(SESSION, CID)
    assert entry is not None
    assert compare((entry,), ()).missing == (
        f"{CID} (ledger terminal, broker id {entry.broker_order_id})",
    )
    other = broker.orders[CID].model_copy(update={"filled_qty": D(1)})
    (line,) = compare((entry,), (other,)).mismatched
    assert line == f"{CID}: ledger filled 2, broker filled 1"


def test_a_lagging_entry_is_brought_forward_not_flagged() -> None:
    broker, ledger, _ = _setup()
    ledger.intend(SESSION, TASK, INTENT)
    broker.submit_order(INTENT)  # a crashed try submitted; its ledger never heard back
    reconcile(ledger, broker, SESSION, TASK)
    assert ledger.get(SESSION, CID).state is LedgerState.TERMINAL  # type: ignore[union-attr]


def test_orders_of_other_sessions_are_not_this_sessions_business() -> None:
    broker, ledger, _ = _setup()
    assert broker.list_orders(datetime(2026, 11, 20, tzinfo=UTC), "alc-") == ()
    assert reconcile(ledger, broker, SESSION, TASK).clean


def test_a_final_rejection_is_recorded_with_the_broker_s_words_and_never_sent_again() -> None:
    broker, ledger, journaled = _setup()
    said = "submit buy SPY: HTTP 403 asset SPY is not tradable"
    broker.reject["SPY"] = NotTradableError(said, status=403, code=40310000)
    with pytest.raises(NotTradableError):
        journaled.submit_order(INTENT)
    entry = ledger.get(SESSION, CID)
    assert entry is not None
    assert (entry.state, entry.status) == (LedgerState.TERMINAL, OrderStatus.REJECTED)
    assert entry.rejection == Rejection(
        status=403, code=40310000, message=said, kind="not_tradable"
    )
    # The next task try: the recorded rejection comes back, the broker is not asked again.
    with pytest.raises(NotTradableError, match="recorded in the ledger as final") as again:
        LedgeredBroker(broker, ledger, SESSION, TASK).submit_order(INTENT)
    assert (again.value.status, again.value.code) == (403, 40310000)
    assert broker.submissions == [CID]


def test_a_rejection_a_retry_can_change_is_sent_again_on_the_next_try() -> None:
    broker, ledger, journaled = _setup()
    broker.reject["SPY"] = OrderRejectedError("insufficient buying power", status=403, code=1)
    with pytest.raises(OrderRejectedError):
        journaled.submit_order(INTENT)
    assert ledger.get(SESSION, CID).rejection.kind == "retryable"  # type: ignore[union-attr]
    del broker.reject["SPY"]
    LedgeredBroker(broker, ledger, SESSION, TASK).submit_order(INTENT)
    assert broker.submissions == [CID, CID]
