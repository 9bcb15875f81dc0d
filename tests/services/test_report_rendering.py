"""The report's other forms: text, HTML page and weights chart, written beside the JSON."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

from PIL import Image

from alchemiser.domain.allocation import DecisionStep
from alchemiser.domain.plan import PlanSettings
from alchemiser.domain.report import RunReport, TaskFailure
from alchemiser.ports import Adapters
from alchemiser.services.context import RunContext
from alchemiser.services.history import load_history
from alchemiser.services.plan import plan_rebalance
from alchemiser.services.render import render_html, render_text
from alchemiser.services.replay import ReplaySettings
from alchemiser.services.report import ReportRefs, write_report
from alchemiser.services.signals import compute_signals
from tests.builders import SESSION, D
from tests.console.test_console import traded_store
from tests.fakes import FakeBroker, FakeClock, FakeMarketData, FakeStore

PRICES = {"SPY": D(100), "QQQ": D(50)}
RUN = RunContext(dag_id="d", run_id="manual__<1>", session=SESSION, session_source="run_after")


def test_plan_only_report_has_html_chart_and_text_with_escaped_content(tmp_path: Path) -> None:
    config = tmp_path / "p.yaml"
    config.write_text("strategies:\n  - {name: a, kind: fixed, allocation: 1, weights: {SPY: 1}}\n")
    store = FakeStore()
    adapters = Adapters(
        broker=FakeBroker(prices=dict(PRICES), positions={"QQQ": D(10)}, cash=D(500)),
        market_data=FakeMarketData(PRICES),
        store=store,
        clock=FakeClock(),
    )
    targets = compute_signals(RUN, config, store)
    planned = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    refs = ReportRefs(targets=targets, plan=planned.plan, snapshot=planned.snapshot)
    ref = write_report(RUN, refs, adapters)

    report = RunReport.model_validate_json(store.get(ref.key))
    assert report.outcome == "plan_only"
    assert report.session_source == "run_after"
    prefix = RUN.prefix
    html = store.get(f"{prefix}/report.html").decode()
    assert store.content_types[f"{prefix}/report.html"] == "text/html"
    assert "manual__&lt;1&gt;" in html  # run ids are escaped, never injected
    assert "<img alt='target versus actual weights' src='weights.png'>" in html
    png = store.get(f"{prefix}/weights.png")
    assert store.content_types[f"{prefix}/weights.png"] == "image/png"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.height > 40  # one row per symbol (SPY, QQQ) plus the legend
    text = store.get(f"{prefix}/report.txt").decode()
    assert "outcome PLAN_ONLY" in text
    assert "session from run_after" in text


def test_a_held_symbol_is_named_in_the_plan_summary_and_the_report_with_its_reason(
    tmp_path: Path,
) -> None:
    config = tmp_path / "p.yaml"
    config.write_text(
        "strategies:\n  - {name: a, kind: fixed, allocation: 1, weights: {SPY: 0.5, QQQ: 0.5}}\n"
    )
    store = FakeStore()
    broker = FakeBroker(prices=dict(PRICES), cash=D(1000), untradable={"QQQ"})
    adapters = Adapters(
        broker=broker, market_data=FakeMarketData(PRICES), store=store, clock=FakeClock()
    )
    targets = compute_signals(RUN, config, store)
    planned = plan_rebalance(RUN, targets, adapters, PlanSettings(), ReplaySettings())
    assert "QQQ held: the broker reports it not tradable" in planned.plan.summary
    refs = ReportRefs(targets=targets, plan=planned.plan, snapshot=planned.snapshot)
    report = RunReport.model_validate_json(store.get(write_report(RUN, refs, adapters).key))
    assert report.plan is not None
    assert [h.symbol for h in report.plan.held] == ["QQQ"]
    text = store.get(f"{RUN.prefix}/report.txt").decode()
    assert "Held this session" in text
    held = text.split("Held this session")[1]
    assert held.splitlines()[3].startswith("QQQ")
    assert "the broker reports it not tradable" in held.splitlines()[3]


def _rich_report(tmp_path: Path) -> tuple[RunReport, str, str]:
    """A traded run with a decision trace, a warning, a failure and a note: every section."""
    store = traded_store(tmp_path)
    (line,) = load_history(store).runs
    report = RunReport.model_validate_json(store.get(line.report_key))
    assert report.targets is not None
    why = DecisionStep(where="a.clj:8:4", what="current-price(SPY)=100 > 90 is true: then")
    contribution = report.targets.contributions[0].model_copy(
        update={"trace": (why,), "warnings": ("QQQ has 20 bars < 200",)}
    )
    rich = report.model_copy(
        update={
            "targets": report.targets.model_copy(update={"contributions": (contribution,)}),
            "note": "session already rebalanced: nothing placed (trigger with force=true)",
            "failures": (TaskFailure(task_id="execute_buys", kind="error", error="E: <boom>"),),
            "cleanup": "canceled 1 open order",
        }
    )
    return (
        rich,
        render_text(rich, "s3://b/report.json"),
        render_html(rich, "s3://b/report.json", "w.png"),
    )


def _visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_html_report_carries_every_fact_the_text_report_carries(tmp_path: Path) -> None:
    report, text, html = _rich_report(tmp_path)
    page = _visible_text(html)
    cells = [
        cell
        for line in text.splitlines()
        if line.strip() and not set(line.strip()) <= {"-", " "}
        for cell in re.split(r"\s{2,}", line.strip())
    ]
    missing = [c for c in cells if " ".join(c.split()) not in page]
    assert missing == []
    # the sections an operator missed in the old page
    for fact in (
        "Why a holds QQQ, SPY:",
        "a.clj:8:4 current-price(SPY)=100 > 90 is true: then",
        "warning: QQQ has 20 bars < 200",
        "slip bps",
        "Buys: ",
        "After: portfolio",
        "trigger with force=true",
        "E: <boom>",
    ):
        assert fact in page
    assert report.buys is not None
    assert report.buys.budget is not None
    assert f"budget {report.buys.budget:,.2f}" in page
    assert "<img alt='target versus actual weights' src='w.png'>" in html
    assert "<boom>" not in html  # escaped, never injected
