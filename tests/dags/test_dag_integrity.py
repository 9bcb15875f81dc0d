"""The DAG parses, is wired as designed, and stays light for the dag-processor."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from airflow import plugins_manager
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.exceptions import ParamValidationError
from airflow.serialization.serialized_objects import DagSerialization
from jsonschema import (  # type: ignore[import-untyped]  # jsonschema ships no type stubs
    Draft7Validator,
    Draft202012Validator,
)
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from alchemiser_airflow.settlement import SettlementSensor
from alchemiser_airflow.timetable import TradingSessionTimetable

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "dags" / "daily_rebalance.py"
HEAVY = ("alpaca", "pandas", "boto3", "botocore", "numpy", "exchange_calendars")


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dag_files_import_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"daily_rebalance"}


def test_flow_is_signals_plan_sells_settlement_buys_report(dagbag: DagBag) -> None:
    dag = dagbag.dags["daily_rebalance"]
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {
        ("compute_signals", "build_plan"),
        ("compute_signals", "report"),
        ("build_plan", "route"),
        ("build_plan", "execute_sells"),
        ("build_plan", "execute_buys"),
        ("build_plan", "replay_session"),
        ("build_plan", "report"),
        ("route", "execute_sells"),
        ("route", "replay_session"),
        ("execute_sells", "await_settlement"),
        ("execute_sells", "execute_buys"),
        ("await_settlement", "execute_buys"),
        ("execute_buys", "report"),
        ("replay_session", "report"),
    }


def test_every_task_retries_and_has_a_timeout(dagbag: DagBag) -> None:
    dag = dagbag.dags["daily_rebalance"]
    for task in dag.tasks:
        assert (task.retries or 0) >= 1, task.task_id
        assert task.execution_timeout is not None, task.task_id
    assert dag.max_active_runs == 1
    assert not dag.catchup


def test_report_is_the_teardown_that_runs_whatever_happened(dagbag: DagBag) -> None:
    dag = dagbag.dags["daily_rebalance"]
    report = dag.get_task("report")
    assert report.is_teardown
    assert report.trigger_rule == "all_done_setup_success"
    # Downstream of every path, so it runs last; a failed report does not hide the run's state.
    assert report.upstream_task_ids == {
        "compute_signals",
        "build_plan",
        "execute_buys",
        "replay_session",
    }
    assert not report.on_failure_fail_dagrun
    settlement = dag.get_task("await_settlement")
    assert isinstance(settlement, SettlementSensor)
    assert settlement.deferrable


def test_execution_phases_cancel_their_orders_when_killed(dagbag: DagBag) -> None:
    dag = dagbag.dags["daily_rebalance"]
    for task_id in ("execute_sells", "execute_buys"):
        task = dag.get_task(task_id)
        assert type(task).__name__ == "PhaseOperator"
        assert "on_kill" in vars(type(task)), task_id


def test_trigger_params_validate_and_name_the_bad_one(dagbag: DagBag) -> None:
    params = copy.deepcopy(dagbag.dags["daily_rebalance"].params)
    params["mode"] = "paper-exchange"  # what the UI form does with each field
    with pytest.raises(ParamValidationError, match="param mode: 'yolo' is not one of"):
        params["mode"] = "yolo"
    with pytest.raises(ParamValidationError, match="param plan_only: 'yes' is not of type"):
        params["plan_only"] = "yes"
    with pytest.raises(ParamValidationError, match="param session"):
        params["session"] = "yesterday"
    with pytest.raises(ParamValidationError, match="param portfolio"):
        params["portfolio"] = "../../etc/passwd"
    with pytest.raises(ParamValidationError, match="param max_order_notional"):
        params["max_order_notional"] = -5
    params["max_order_notional"] = 2500
    assert params.validate() == {
        "session": None,
        "mode": "paper-exchange",
        "plan_only": False,
        "portfolio": "portfolio.yaml",
        "force": False,
        "max_order_notional": 2500,
    }


# Values each Param must take or refuse, valid and not, for the draft-7 check below.
PARAM_SAMPLES: dict[str, tuple[object, ...]] = {
    "session": (None, "", "2026-11-20", "yesterday", "2026-11-20x", "11/20/2026", 20261120),
    "mode": ("paper-exchange", "paper", "live", "yolo", "", None, 1),
    "plan_only": (True, False, "yes", "true", 0, None),
    "portfolio": ("portfolio.yaml", "sub/mix.yml", "../../etc/passwd", "p.json", "", None),
    "force": (True, False, "no", 1, None),
    "max_order_notional": (None, 2500, 0.01, 0, -5, "100", True),
}


def test_every_param_schema_is_draft_7_and_means_what_it_did_in_2020_12(dagbag: DagBag) -> None:
    # The schemas name draft 7 to make each parse's metaschema check cheap (see the DAG file):
    # every sample must be taken or refused exactly as the default draft 2020-12 does.
    params = dagbag.dags["daily_rebalance"].params
    assert set(PARAM_SAMPLES) == set(params)
    for name, samples in PARAM_SAMPLES.items():
        schema = params.get_param(name).schema
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#", name
        assert validator_for(schema) is Draft7Validator, name
        Draft7Validator.check_schema(schema)
        unnamed = {key: value for key, value in schema.items() if key != "$schema"}
        Draft202012Validator.check_schema(unnamed)
        verdicts = [Draft7Validator(schema).is_valid(value) for value in samples]
        assert verdicts == [Draft202012Validator(unnamed).is_valid(value) for value in samples]
        assert set(verdicts) == {True, False}, name  # each takes some samples, refuses some


def test_the_api_server_refuses_bad_trigger_values(
    dagbag: DagBag, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API server validates a trigger's conf against the serialized DAG's params, not the
    # DAG file's; the UI's trigger form is drawn from the same serialized schemas.
    monkeypatch.setattr(
        plugins_manager,
        "get_timetables_plugins",
        lambda: {"alchemiser_airflow.timetable.TradingSessionTimetable": TradingSessionTimetable},
    )
    data = DagSerialization.to_dict(dagbag.dags["daily_rebalance"])
    DagSerialization.validate_schema(data)
    served = DagSerialization.from_dict(json.loads(json.dumps(data)))
    bad = {  # the value, and what the refusal says (the UI test reads the session's)
        "mode": ("yolo", "is not one of"),
        "session": ("11/20/2026", "does not match"),
        "portfolio": ("../../etc/passwd", "does not match"),
        "plan_only": ("yes", "is not of type"),
        "max_order_notional": (0, "less than or equal to the minimum of 0"),
    }
    for name, (value, says) in bad.items():
        with pytest.raises(ParamValidationError, match=f"param {name}: .*{says}"):
            served.params.deep_merge({name: value}).validate()
    conf = {"session": "2026-11-20", "mode": "live", "max_order_notional": 2500}
    assert served.params.deep_merge(conf).validate() == {
        "session": "2026-11-20",
        "mode": "live",
        "plan_only": False,
        "portfolio": "portfolio.yaml",
        "force": False,
        "max_order_notional": 2500,
    }
    form = served.params.get_param("mode").schema
    assert form["enum"] == ["paper-exchange", "paper", "live"]
    assert form["title"] == "Venue"


def test_the_schedule_is_the_trading_session_timetable(dagbag: DagBag) -> None:
    timetable = dagbag.dags["daily_rebalance"].timetable
    assert isinstance(timetable, TradingSessionTimetable)
    assert timetable.serialize() == {"minutes_before_close": 30, "calendar_name": "XNYS"}


def test_session_param_takes_a_typed_date_and_refuses_another_form(dagbag: DagBag) -> None:
    dag = dagbag.dags["daily_rebalance"]
    param = dag.params.get_param("session")
    assert param.description is not None
    # format=date renders the browser's date picker, which turned a typed 2026-11-20 into
    # 02/02/61120: a plain string with a pattern is typed as it is.
    assert "format" not in param.schema
    assert "2026-11-20" in param.description
    assert param.resolve("2026-11-20") == "2026-11-20"
    assert param.resolve("") == ""  # an emptied field: the default session
    params = copy.deepcopy(dag.params)
    for bad in ("yesterday", "11/20/2026", "2026-11-20x", "02/02/61120"):
        with pytest.raises(ParamValidationError, match=r"param session: .* does not match"):
            params["session"] = bad


def test_mode_description_names_what_a_local_paper_exchange_needs(dagbag: DagBag) -> None:
    description = dagbag.dags["daily_rebalance"].params.get_param("mode").description
    assert description is not None
    assert description.startswith(
        "A local paper exchange (make run, make airflow) needs paper-exchange"
    )


def test_parsing_the_dag_loads_no_heavy_sdk_and_nothing_of_the_product() -> None:
    # The product (alchemiser.*) is reached at run time only: even its domain errors and
    # session dates cost each parse millions of instructions (see the plugins' settlement and
    # timetable modules).
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('d', {str(DAG_FILE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'alchemiser')))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'include'}:{ROOT / 'plugins'}"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    heavy, product = out.stdout.strip().splitlines()[-2:]
    assert json.loads(heavy) == []
    assert json.loads(product) == []


def test_the_dag_docs_diagram_is_a_fenced_block_markdown_keeps_as_drawn(dagbag: DagBag) -> None:
    # The UI renders doc_md as Markdown: outside a fence the diagram collapsed into one line,
    # and a backslash in it was eaten (`execute_buys \-> replay_session`).
    doc = dagbag.dags["daily_rebalance"].doc_md
    assert doc is not None
    fenced = doc.split("```")
    assert len(fenced) >= 3, "the diagram must sit between ``` fences"
    diagram = fenced[1]
    assert "compute_signals" in diagram
    assert "replay_session" in diagram
    assert "report (teardown)" in diagram
    assert "\\" not in diagram
    assert len(diagram.strip().splitlines()) >= 3
