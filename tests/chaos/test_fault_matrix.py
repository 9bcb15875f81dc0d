"""The fault matrix (issue 7): every fault mode against the task code; writes docs/reliability.md.

Every row must either complete or fail with the reason the scenario expects, and in every row
no intent may have been sent twice and the ledger must match the broker. A failure caused by a
transient fault must complete when re-run after the fault is lifted; a halted symbol's partial
phase stays failed on re-run (a retry must not turn a partial run green).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chaos.reliability import DOC, SCENARIOS, Row, render, run_matrix, write
from tests.chaos.reliability import s3_client as start_s3_client

FINAL_FAILURES = {
    "halted symbol (XLE)",
    "stale quotes (1 day old)",
    "held symbol not tradable at planning (QQQ)",
    "target not tradable at planning (XLE)",
    "quote stays crossed (SPY)",
    "403 not tradable on a sell mid-phase (QQQ)",
    "price runs through the collar (no limit fills)",
    "price moved from the plan's (stale plan)",
    "slippage over the per-order budget",
}
"""Partial runs: the recorded phases (held walks, unfilled halts) stay partial on re-run."""
ENGINE_FAULTS = {"halted", "untradable"}
"""Faults the engine applies itself: not counted as injected."""


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    with start_s3_client(tmp_path_factory.mktemp("matrix-s3")) as client:
        result = run_matrix(client)
    write(result)
    return result


def test_the_matrix_covers_every_fault_mode(rows: list[Row]) -> None:
    assert [r.scenario.name for r in rows] == [s.name for s in SCENARIOS]
    kinds = {k.split("_")[0] for r in rows for k in r.injected}
    assert kinds >= {"error", "429", "delay", "lost", "stale", "html", "missing", "crossed"}


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_each_scenario_completes_or_fails_with_its_reason_and_nothing_twice(
    rows: list[Row], name: str
) -> None:
    row = next(r for r in rows if r.scenario.name == name)
    assert row.as_expected, (row.outcome, row.reason)
    assert row.sent_twice == 0, row.problems
    assert row.ledger_matches, row.problems
    assert row.open_after_teardown == 0, "the teardown left an order of the run working"
    if row.scenario.rerun_faults or row.scenario.rerun_halt:
        assert row.rerun.startswith("failed again"), row.rerun
        assert row.open_after_run > 0 or row.scenario.rerun_halt, "nothing was left to clean up"
    elif row.outcome == "failed" and name not in FINAL_FAILURES:
        assert row.rerun == "completed", row.rerun
    if row.scenario.rerun_halt:
        assert row.rerun == "failed again: KillSwitchError"
        assert row.open_after_run == 0  # the retry itself canceled what the first try left
    if row.scenario.faults and not ENGINE_FAULTS & set(row.scenario.faults):
        assert row.injected, "the fault never fired: the row proves nothing"


def test_lost_responses_were_resolved_by_duplicate_id_lookups(rows: list[Row]) -> None:
    lost = [r for r in rows if r.scenario.name.startswith("order accepted")]
    assert all(r.duplicate_refusals >= 4 for r in lost), [r.duplicate_refusals for r in lost]


def test_the_published_file_is_this_run_s_output(rows: list[Row], tmp_path: Path) -> None:
    assert DOC.read_text(encoding="utf-8") == render(rows)
    text = DOC.read_text(encoding="utf-8")
    assert "| halted symbol (XLE) | failed: PartialRunError" in text
    halted = next(r for r in rows if r.scenario.name == "halted symbol (XLE)")
    calm = next(r for r in rows if r.scenario.name == "no faults")
    assert halted.orders > calm.orders  # the halted walk reached its final order: the halt was real


def test_render_marks_a_mismatch_loudly(rows: list[Row]) -> None:
    broken: Any = rows[0].__class__(**{**rows[0].__dict__, "ledger_matches": False})
    assert "| NO |" in render([broken])
