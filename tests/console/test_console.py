"""The console: what its pages show from what runs wrote; it answers only signed-in users."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from alchemiser.adapters.airflow.console import console_app
from alchemiser.console.pages import mask, run_href
from alchemiser.domain.errors import BrokerError
from alchemiser.domain.history import RunHistory, RunSummary
from alchemiser.domain.keys import EQUITY_CURVE, HISTORY_KEY
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.replay import REPLAY_ACCOUNT, EquityCurve, EquityPoint
from alchemiser.domain.report import RunReport, TaskFailure
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.ports import Adapters
from alchemiser.services.context import RunContext
from alchemiser.services.execute import execute_buys, execute_sells
from alchemiser.services.history import load_history, record_run, summarize
from alchemiser.services.plan import plan_rebalance
from alchemiser.services.replay import ReplaySettings
from alchemiser.services.report import ReportRefs, find_refs, write_report
from alchemiser.services.signals import compute_signals
from tests.builders import SESSION, D
from tests.fakes import FakeBroker, FakeClock, FakeMarketData, FakeStore

PRICES = {"SPY": D(100), "QQQ": D(50)}
RUN = RunContext(
    dag_id="daily_rebalance",
    run_id="manual__2026-11-20T20:30:00+00:00",
    session=SESSION,
    session_source="param",
)
FAST = ExecutionSettings(walk_seconds=5, market_fill_seconds=5, poll_interval_seconds=0.1)


def traded_store(tmp_path: Path) -> FakeStore:
    """A store after one traded run of SPY/QQQ 50/50 and a replayed equity curve."""
    config = tmp_path / "p.yaml"
    config.write_text(
        "strategies:\n  - {name: a, kind: fixed, allocation: 1, weights: {SPY: 0.5, QQQ: 0.5}}\n"
    )
    store = FakeStore()
    adapters = Adapters(
        broker=FakeBroker(prices=dict(PRICES), positions={"QQQ": D(40)}, cash=D(1000)),
        market_data=FakeMarketData(PRICES),
        store=store,
        clock=FakeClock(),
    )
    targets = compute_signals(RUN, config, store)
    planned = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    sells = execute_sells(RUN, RUN.task("execute_sells"), planned.plan, adapters, FAST)
    buys = execute_buys(RUN, RUN.task("execute_buys"), planned.plan, adapters, FAST)
    refs = ReportRefs(
        targets=targets, plan=planned.plan, snapshot=planned.snapshot, sells=sells.phase, buys=buys
    )
    write_report(RUN, refs, adapters)
    curve = EquityCurve(
        points=tuple(
            EquityPoint(session=date(2026, 11, d), value=D(v))
            for d, v in ((9, 100000), (10, 104000), (11, 98000), (12, 101000))
        )
    )
    store.put(EQUITY_CURVE, curve.model_dump_json().encode())
    return store


def signed_in(store: FakeStore) -> TestClient:
    app = console_app(lambda: store, "/alchemiser")
    app.dependency_overrides[get_user] = object  # a signed-in user
    return TestClient(app)


def test_an_anonymous_request_is_refused_on_every_page(tmp_path: Path) -> None:
    client = TestClient(console_app(lambda: traded_store(tmp_path), "/alchemiser"))
    for path in ("/", "/ledger", f"/runs/{RUN.run_id}", f"/runs/{RUN.run_id}/weights.svg"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "Nov" not in response.text  # nothing of the portfolio leaks
    refused = client.get("/", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert refused.status_code == 401


def test_the_report_records_the_run_in_the_history(tmp_path: Path) -> None:
    store = traded_store(tmp_path)
    (run,) = load_history(store).runs
    assert run.run_id == RUN.run_id
    assert run.outcome == "success"
    assert run.traded_value > 0
    assert run.portfolio_value is not None
    assert run.account_id


def test_the_portfolio_page_shows_positions_targets_drift_runs_and_charts(tmp_path: Path) -> None:
    store = traded_store(tmp_path)
    (run,) = load_history(store).runs
    page = signed_in(store).get("/")
    assert page.status_code == 200
    html = page.text
    assert f"{run.portfolio_value:,.2f}" in html
    assert "<th>drift</th>" in html
    rows = re.findall(r"<tr><td>(SPY|QQQ)</td>.*?</tr>", html)
    assert sorted(rows) == ["QQQ", "SPY"]
    assert "50.00%" in html  # the targets
    assert f"{run.traded_value:,.2f}" in html  # recent runs: traded value
    assert html.count("<svg class='chart'") == 4  # weights, slippage, equity, drawdown
    assert "-5.77%" in html  # the curve's worst drawdown: 98,000 after a 104,000 peak
    assert "aria-label='drawdown, %'" in html
    assert run.account_id not in html  # masked: only the last four characters
    assert f"…{run.account_id[-4:]}" in html


def _unreadable_account_run(store: FakeStore) -> RunContext:
    """Write the report of a later run that failed and could not read the account."""
    run = RunContext(
        dag_id="daily_rebalance", run_id="manual__down", session=SESSION, session_source="param"
    )
    broker = FakeBroker(prices=dict(PRICES))

    def down() -> None:
        raise BrokerError("get account: HTTP 503 <b>")

    broker.get_account = down  # type: ignore[assignment,method-assign]
    adapters = Adapters(
        broker=broker, market_data=FakeMarketData(PRICES), store=store, clock=FakeClock()
    )
    failure = TaskFailure(task_id="build_plan", kind="error", error="BrokerError: HTTP 503")
    write_report(run, find_refs(run, adapters, None), adapters, failures=(failure,))
    return run


@pytest.mark.parametrize("traded_before", [False, True])
def test_the_portfolio_page_says_the_last_run_could_not_read_the_account(
    tmp_path: Path, traded_before: bool
) -> None:
    store = traded_store(tmp_path) if traded_before else FakeStore()
    run = _unreadable_account_run(store)
    html = signed_in(store).get("/").text
    assert "No run has written a report yet" not in html
    assert "could not read the account: BrokerError: get account: HTTP 503 &lt;b&gt;" in html
    assert f">{run.run_id}</a>" in html
    # the positions the last readable run saw stay, named by their run
    assert ("As of run <a href='/alchemiser/runs/" in html) is traded_before


def _replayed_run(store: FakeStore, after_cash: Decimal) -> RunSummary:
    """Record a backfill's replay of an earlier session, written after the traded run."""
    (traded,) = load_history(store).runs
    report = RunReport.model_validate_json(store.get(traded.report_key))
    assert report.after is not None
    replay = report.model_copy(
        update={
            "run_id": "backfill__2026-11-19",
            "session": date(2026, 11, 19),
            "outcome": "replayed",
            "live": None,
            "after": report.after.model_copy(update={"cash": after_cash}),
        }
    )
    key = "runs/2026-11-19/backfill__2026-11-19/report.json"
    store.put(key, replay.model_dump_json().encode())
    summary = summarize(replay, key, datetime(2026, 11, 21, tzinfo=UTC))
    record_run(store, summary)
    return summary


def test_the_portfolio_page_shows_the_account_not_a_later_backfills_simulated_book(
    tmp_path: Path,
) -> None:
    store = traded_store(tmp_path)
    replayed = _replayed_run(store, after_cash=D("777777.77"))
    html = signed_in(store).get("/").text
    assert f"As of run <a href='{run_href('/alchemiser', RUN.run_id)}'>" in html
    assert "777,777.77" not in html  # the replay's simulated cash is not the account's
    assert f">{replayed.run_id}</a>" in html  # still listed among the recent runs
    assert "<td class='replayed'>replayed</td>" in html
    # The slippage chart runs by session, not by the order the reports were written in.
    chart = html.split("slippage per run", 1)[1].split("</svg>")[0]
    assert chart.index("2026-11-19") < chart.index("2026-11-20")


def test_with_only_replayed_sessions_the_page_says_no_run_read_the_account(
    tmp_path: Path,
) -> None:
    store = traded_store(tmp_path)
    replayed = _replayed_run(store, after_cash=D("777777.77"))
    store.put(HISTORY_KEY, RunHistory(runs=(replayed,)).model_dump_json().encode())
    html = signed_in(store).get("/").text
    assert "Only replayed sessions so far" in html
    assert "Positions versus targets" not in html
    assert "777,777.77" not in html.split("<h2>Recent runs</h2>")[0]


def test_the_report_view_shows_the_run_report_with_its_chart(tmp_path: Path) -> None:
    store = traded_store(tmp_path)
    client = signed_in(store)
    page = client.get("/runs/manual__2026-11-20T20%3A30%3A00%2B00%3A00")
    assert page.status_code == 200
    assert "outcome SUCCESS" in page.text
    assert "slip bps" in page.text
    text = store.get(f"{RUN.prefix}/report.txt").decode()
    assert text.splitlines()[0] in page.text
    chart = client.get(f"/runs/{RUN.run_id}/weights.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert "SPY" in chart.text
    assert client.get("/runs/manual__nope").status_code == 404


def test_the_ledger_page_lists_every_intent_of_a_session(tmp_path: Path) -> None:
    store = traded_store(tmp_path)
    entries = [k for k in store.objects if "/orders/" in k]
    page = signed_in(store).get("/ledger", params={"session": SESSION.isoformat()})
    assert page.status_code == 200
    for key in entries:
        assert key.rsplit("/", 1)[1].removesuffix(".json") in page.text
    assert "terminal" in page.text
    assert "filled" in page.text


def test_a_rerun_report_replaces_its_history_line_and_others_are_kept() -> None:
    store = FakeStore()
    line = RunSummary(
        run_id="a",
        session=SESSION,
        outcome="failed",
        written_at="2026-11-20T21:00:00+00:00",
        report_key="runs/x/a/report.json",
        traded_value=Decimal(0),
        slippage_bps=None,
        orders_placed=0,
        portfolio_value=None,
    )
    record_run(store, line)
    record_run(store, line.model_copy(update={"run_id": "b"}))
    record_run(store, line.model_copy(update={"outcome": "success"}))
    assert [(r.run_id, r.outcome) for r in load_history(store).runs] == [
        ("b", "failed"),
        ("a", "success"),
    ]


@pytest.mark.parametrize("account", ["PA3XYZ1234", "12"])
def test_account_numbers_are_masked(account: str) -> None:
    assert mask(account).endswith(account[-4:])
    assert len(account) <= 4 or account not in mask(account)


def test_a_replayed_session_is_not_shown_as_an_account_or_as_the_portfolio() -> None:
    store = FakeStore()
    replayed = RunSummary(
        run_id="backfill__2025-06-02",
        session=date(2025, 6, 2),
        outcome="failed",  # a replay whose replay task failed: its book is still the simulated one
        written_at="2025-06-02T21:00:00+00:00",
        report_key="runs/2025-06-02/backfill__2025-06-02/report.json",
        account_id=REPLAY_ACCOUNT,
        traded_value=Decimal(0),
        slippage_bps=None,
        orders_placed=0,
        portfolio_value=Decimal(100_000),
    )
    record_run(store, replayed)
    client = signed_in(store)
    ledger = client.get("/ledger", params={"session": "2025-06-02"}).text
    assert mask(REPLAY_ACCOUNT) not in ledger  # not an account that ends in "play"
    assert "replayed" in ledger
    portfolio = client.get("/").text
    assert "Positions versus targets" not in portfolio
    assert "Only replayed sessions so far" in portfolio
