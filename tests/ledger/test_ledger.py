"""The trade ledger: intents recorded before sending, states only forward, lease, phases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.orders import OrderIntent, OrderResult, OrderStatus
from alchemiser.domain.plan import Side
from alchemiser.domain.report import ArtifactRef
from alchemiser.ledger.entry import LedgerState
from alchemiser.ledger.ids import TaskKey, client_order_id
from alchemiser.ledger.ledger import LeaseHeldError, LedgerConflictError, TradeLedger
from tests.builders import SESSION, D
from tests.fakes import FakeClock, FakeStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TASK = TaskKey(dag_id="daily_rebalance", run_id="manual__1", task_id="execute_sells")
CID = client_order_id(TASK, "SPY", Side.SELL)
INTENT = OrderIntent(
    client_order_id=CID, run_id="manual__1", symbol="SPY", side=Side.SELL, qty=D(3)
)


def _result(status: OrderStatus, filled: str) -> OrderResult:
    return OrderResult(
        client_order_id=CID,
        broker_order_id="b-1",
        symbol="SPY",
        side=Side.SELL,
        status=status,
        qty=D(3),
        filled_qty=D(filled),
        filled_avg_price=D(100) if D(filled) else None,
    )


def test_an_intent_is_recorded_once_and_a_retry_reads_it_back() -> None:
    store = FakeStore()
    ledger = TradeLedger(store, "acct-1", FakeClock())
    first = ledger.intend(SESSION, TASK, INTENT)
    again = TradeLedger(store, "acct-1", FakeClock()).intend(SESSION, TASK, INTENT)
    assert again == first
    assert first.state is LedgerState.INTENDED
    assert list(store.objects) == [f"ledger/acct-1/2026-11-20/orders/{CID}.json"]


def test_states_only_move_forward_with_who_wrote_them() -> None:
    ledger = TradeLedger(FakeStore(), "acct-1", FakeClock())
    ledger.intend(SESSION, TASK, INTENT)
    ledger.record(SESSION, TASK, _result(OrderStatus.PARTIALLY_FILLED, "1"))
    done = ledger.record(SESSION, TASK, _result(OrderStatus.FILLED, "3"))
    stale = ledger.record(SESSION, TASK, _result(OrderStatus.NEW, "0"))  # an old poll arriving late
    assert stale == done
    assert done.state is LedgerState.TERMINAL
    assert (done.broker_order_id, done.filled_qty, done.filled_avg_price) == ("b-1", D(3), D(100))
    assert [e.state for e in done.events] == ["intended", "submitted", "terminal"]
    assert {e.run_id for e in done.events} == {"manual__1"}
    assert ledger.entries(SESSION) == (done,)


def test_a_different_order_under_an_existing_id_is_a_conflict() -> None:
    ledger = TradeLedger(FakeStore(), "acct-1", FakeClock())
    ledger.intend(SESSION, TASK, INTENT)
    other = INTENT.model_copy(update={"side": Side.BUY})
    with pytest.raises(LedgerConflictError, match="ledger holds sell SPY, not buy SPY"):
        ledger.intend(SESSION, TASK, other)


def test_the_lease_excludes_a_second_run_until_it_expires() -> None:
    clock = FakeClock()
    ledger = TradeLedger(FakeStore(), "acct-1", clock)
    ledger.acquire_lease(SESSION, "run-a", timedelta(minutes=30))
    ledger.acquire_lease(SESSION, "run-a", timedelta(minutes=30))  # renewing is fine
    with pytest.raises(LeaseHeldError, match="run run-a holds the trading lease"):
        ledger.acquire_lease(SESSION, "run-b", timedelta(minutes=30))
    clock.sleep(31 * 60)  # run-a crashed and never released it
    assert ledger.acquire_lease(SESSION, "run-b", timedelta(minutes=30)).run_id == "run-b"


def test_a_released_lease_is_free_at_once() -> None:
    ledger = TradeLedger(FakeStore(), "acct-1", FakeClock())
    ledger.acquire_lease(SESSION, "run-a", timedelta(minutes=30))
    ledger.release_lease(SESSION, "run-a")
    assert ledger.acquire_lease(SESSION, "run-b", timedelta(minutes=30)).run_id == "run-b"


def test_phase_records_and_the_rebalanced_marker_keep_the_first_writer() -> None:
    ledger = TradeLedger(FakeStore(), "acct-1", FakeClock())
    ref = ArtifactRef(artifact_id="phase_sells:r", bucket="bucket", key="runs/x/phase_sells.json")
    assert ledger.completed_phase(SESSION, "run-a", "execute_sells") is None
    ledger.complete_phase(SESSION, "run-a", "execute_sells", ref)
    ledger.complete_phase(SESSION, "run-a", "execute_sells", ref.model_copy(update={"key": "y"}))
    record = ledger.completed_phase(SESSION, "run-a", "execute_sells")
    assert record is not None
    assert record.result == ref
    assert ledger.rebalanced_by(SESSION) is None
    assert ledger.mark_rebalanced(SESSION, "run-a").run_id == "run-a"
    assert ledger.mark_rebalanced(SESSION, "run-b").run_id == "run-a"


def test_concurrent_writers_on_s3_create_one_entry_and_lose_no_update(
    s3_client: S3Client, bucket: str
) -> None:
    store = S3ObjectStore(s3_client, bucket)
    ledgers = [TradeLedger(store, "acct-1", FakeClock()) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        entries = list(pool.map(lambda lg: lg.intend(SESSION, TASK, INTENT), ledgers))
    assert len({e.model_dump_json() for e in entries}) == 1
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda args: ledgers[args[0]].record(SESSION, TASK, args[1]),
                [(0, _result(OrderStatus.NEW, "0")), (1, _result(OrderStatus.FILLED, "3"))],
            )
        )
    final = ledgers[2].get(SESSION, CID)
    assert final is not None
    assert final.state is LedgerState.TERMINAL
