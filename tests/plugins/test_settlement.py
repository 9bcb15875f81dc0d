"""The settlement sensor and trigger turn a broker failure or a timeout into the domain's errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent

from alchemiser.adapters.airflow import settlement
from alchemiser.domain.errors import BrokerError, SettlementTimeoutError
from alchemiser_airflow.settlement import SettlementSensor, SettlementTrigger


def _sensor() -> SettlementSensor:
    return SettlementSensor(task_id="await_settlement", sells={"orders": []})


def test_a_settled_event_completes_the_sensor_with_the_event() -> None:
    event = {"status": "settled", "detail": "2 sells filled, proceeds usable", "ready": True}
    assert _sensor().execute_complete({}, event) == event


def test_a_timed_out_event_fails_the_sensor_naming_what_is_missing() -> None:
    event = {"status": "timeout", "detail": "SPY sell still open"}
    with pytest.raises(SettlementTimeoutError, match=r"\(timeout\): SPY sell still open"):
        _sensor().execute_complete({}, event)


def test_the_trigger_hands_a_broker_failure_to_the_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    async def connect(conn_id: str) -> object:
        return object()

    def refuse(*args: Any) -> dict[str, Any]:
        raise BrokerError("account blocked", status=403)

    monkeypatch.setattr(settlement, "acheck_connection", connect)
    monkeypatch.setattr(settlement, "check_with", refuse)
    trigger = SettlementTrigger(
        conn_id="alpaca_default",
        sells={"orders": []},
        deadline="2026-11-20T21:00:00+00:00",
        poll_interval=0.01,
    )

    async def first_event() -> TriggerEvent:
        return await anext(aiter(trigger.run()))

    event = asyncio.run(first_event())
    assert event.payload == {"status": "error", "detail": "account blocked"}
