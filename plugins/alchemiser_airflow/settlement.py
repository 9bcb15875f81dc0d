"""SettlementSensor and SettlementTrigger: wait for sells and proceeds without a worker slot.

Shaped like Airflow's FileSensor/FileTrigger: the sensor checks once in the worker; if the
sells are not settled it defers to the trigger, which polls the broker from the triggerer
(sync SDK calls run in a thread, so the event loop never blocks) until settled or timed out,
then the sensor resumes in `execute_complete`. `deferrable=False` runs the same check as a
classic sensor (`mode="reschedule"` frees the slot between pokes) for deployments without a
triggerer.

`settlement_wait` (seconds) is for cash accounts, whose proceeds settle the next business day:
once every sell is terminal and this long has passed since the sells finished, the buys go
ahead with the settled cash and report what they could not buy. Without it (the default,
right for margin accounts, where proceeds are usable at once) the timeout fails the task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue
from airflow.triggers.base import BaseTrigger, TriggerEvent

DEFAULT_TOLERANCE_BPS = "10"


class SettlementTrigger(BaseTrigger):
    """Poll the broker until the run's sells are terminal and their proceeds are spendable."""

    def __init__(
        self,
        *,
        conn_id: str,
        sells: dict[str, Any],
        deadline: str,
        poll_interval: float,
        tolerance_bps: str = DEFAULT_TOLERANCE_BPS,
        settlement_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.sells = sells
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.tolerance_bps = tolerance_bps
        self.settlement_wait = settlement_wait

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and plain kwargs (no credentials: only the connection id)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "sells": self.sells,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "tolerance_bps": self.tolerance_bps,
                "settlement_wait": self.settlement_wait,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Yield one event: settled, timeout, or error."""
        # Runtime imports: the triggerer imports this module by classpath, the dag-processor
        # imports it while parsing; only the triggerer needs the broker SDK, and only a run
        # the domain's errors (their 22 classes cost each parse 2.4 million instructions, a
        # third of a trivial DAG's whole parse).
        from alchemiser.adapters.airflow import settlement  # noqa: PLC0415 - runtime only
        from alchemiser.domain.errors import AlchemiserError  # noqa: PLC0415 - runtime only

        deadline = datetime.fromisoformat(self.deadline)
        broker = await settlement.acheck_connection(self.conn_id)
        while True:
            try:
                status = await asyncio.to_thread(
                    settlement.check_with,
                    broker,
                    self.sells,
                    self.tolerance_bps,
                    self.settlement_wait,
                )
            except AlchemiserError as exc:
                # Hand the failure to the sensor so the task fails with the broker's words.
                yield TriggerEvent({"status": "error", "detail": str(exc)})
                return
            if status["ready"]:
                yield TriggerEvent({**status, "status": "settled"})
                return
            if datetime.now(UTC) >= deadline:  # noqa: TID251 - the trigger is the edge
                yield TriggerEvent({"status": "timeout", **status})
                return
            await asyncio.sleep(self.poll_interval)


class SettlementSensor(BaseSensorOperator):
    """await_settlement: succeed once every sell is terminal and its proceeds are usable."""

    template_fields: Sequence[str] = ("sells",)

    def __init__(
        self,
        *,
        sells: Any,
        conn_id: str = "alpaca_default",
        tolerance_bps: str = DEFAULT_TOLERANCE_BPS,
        settlement_wait: float | None = None,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 2.0)
        kwargs.setdefault("timeout", 15 * 60)
        super().__init__(**kwargs)
        self.sells = sells
        self.conn_id = conn_id
        self.tolerance_bps = tolerance_bps
        self.settlement_wait = settlement_wait
        self.deferrable = deferrable

    def _check(self) -> dict[str, Any]:
        from alchemiser.adapters.airflow import settlement  # noqa: PLC0415 - runtime only

        return settlement.check(self.conn_id, self.sells, self.tolerance_bps, self.settlement_wait)

    def execute(self, context: Context) -> Any:
        """Check once; if not settled, defer to the trigger (or poke, when not deferrable)."""
        if not self.deferrable:
            return super().execute(context)
        status = self._check()
        if status["ready"]:
            self.log.info("sells settled at once: %s", status["detail"])
            return status
        deadline = datetime.now(UTC) + timedelta(seconds=self.timeout)  # noqa: TID251
        self.log.info("deferring until settled: %s", status["detail"])
        self.defer(
            trigger=SettlementTrigger(
                conn_id=self.conn_id,
                sells=self.sells,
                deadline=deadline.isoformat(),
                poll_interval=self.poke_interval,
                tolerance_bps=self.tolerance_bps,
                settlement_wait=self.settlement_wait,
            ),
            method_name="execute_complete",
            # A backstop only: the trigger reports its own timeout with what is missing.
            timeout=timedelta(seconds=self.timeout + 60),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """Check once (classic and reschedule modes)."""
        status = self._check()
        self.log.info("settlement: %s", status["detail"])
        return PokeReturnValue(is_done=status["ready"], xcom_value=status)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: succeed when settled, fail naming what is missing."""
        if event.get("status") == "settled":
            self.log.info("sells settled: %s", event["detail"])
            return event
        # Runtime import: see SettlementTrigger.run.
        from alchemiser.domain.errors import SettlementTimeoutError  # noqa: PLC0415 - runtime only

        raise SettlementTimeoutError(
            f"settlement not reached ({event.get('status')}): {event.get('detail', event)}"
        )
