"""What a run trades and says: the session a backfill replays, and why a run places nothing."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import structlog

from alchemiser.adapters.airflow import runtime, wiring
from alchemiser.domain.report import ArtifactRef

NY_CLOSE = datetime.fromisoformat("2026-11-13T15:30:00-05:00")
REF = ArtifactRef(artifact_id="x", bucket="alchemiser", key="runs/k.json")


def _context(run_type: str, params: dict[str, Any], logical: datetime | None) -> dict[str, Any]:
    run = SimpleNamespace(
        dag_id="daily_rebalance",
        run_id=f"{run_type}__x",
        run_type=SimpleNamespace(value=run_type),
        logical_date=logical,
        run_after=NY_CLOSE,
    )
    return {"dag_run": run, "params": params}


def test_a_backfill_run_replays_its_own_date_and_says_the_session_param_is_ignored() -> None:
    with structlog.testing.capture_logs() as logs:
        run = wiring.run_context(_context("backfill", {"session": "2026-11-20"}, NY_CLOSE))
    assert (run.session, run.session_source) == (date(2026, 11, 13), "logical_date")
    assert run.backfill  # so build_plan replays it even when it is the broker's session
    warned = [e for e in logs if e["event"] == "session param ignored"]
    assert "backfill" in warned[0]["reason"]
    assert "2026-11-20" in warned[0]["reason"]


def test_a_manual_run_takes_the_typed_session() -> None:
    with structlog.testing.capture_logs() as logs:
        run = wiring.run_context(_context("manual", {"session": "2026-11-20"}, None))
    assert (run.session, run.session_source) == (date(2026, 11, 20), "param")
    assert not run.backfill
    assert not [e for e in logs if e["event"] == "session param ignored"]


def _plan(**fields: Any) -> dict[str, Any]:
    base = {"plan": REF, "snapshot": REF, "trades": 3, "mode": "trade"}
    return {
        k: v.model_dump() if isinstance(v, ArtifactRef) else v for k, v in (base | fields).items()
    }


@pytest.mark.parametrize(
    ("plan", "params", "reason"),
    [
        (_plan(rebalanced_by="manual__a"), {}, "already rebalanced by run manual__a"),
        (_plan(trades=0), {}, "within its rebalance band"),
        (_plan(), {"plan_only": True}, "plan_only=true"),
    ],
)
def test_route_says_why_a_run_places_nothing(
    plan: dict[str, Any], params: dict[str, Any], reason: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        chosen = runtime.route_task(_context("manual", params, None), plan)
    assert chosen == []
    said = [e for e in logs if e["event"] == "route: nothing placed"]
    assert reason in said[0]["reason"]
    assert said[0]["run_id"] == "manual__x"


def test_route_sends_a_plan_with_trades_to_the_sells() -> None:
    with structlog.testing.capture_logs() as logs:
        assert runtime.route_task(_context("manual", {}, None), _plan()) == ["execute_sells"]
    assert [e["trades"] for e in logs if e["event"] == "route: trade"] == [3]
