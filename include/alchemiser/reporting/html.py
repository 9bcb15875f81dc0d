"""The run report as one self-contained HTML page (escaped; the chart sits beside it)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.report import RunReport

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
    ".success{color:#2a7}.failed{color:#c33}.partial{color:#c80}"
)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td>(none)</td></tr>'}</table>"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def render_html(report: RunReport, chart_name: str) -> str:
    """Return the report page; `chart_name` is the weights PNG's file name next to it."""
    money = {True: " (LIVE)", False: " (paper)", None: ""}[report.live]
    parts = [
        f"<h1>Run report: session {report.session}, "
        f"<span class='{escape(report.outcome)}'>{escape(report.outcome)}</span></h1>",
        f"<p>venue {escape(report.venue)}{money} &middot; run {escape(report.run_id)} &middot; "
        f"session from {escape(report.session_source)}</p>",
        *([f"<p class='note'>{escape(report.note)}</p>"] if report.note else []),
        *_failures(report),
        "<h2>Targets versus actual</h2>",
        f"<img alt='target versus actual weights' src='{escape(chart_name)}'>",
        _table(
            ["symbol", "target", "actual", "drift"],
            [[w.symbol, _pct(w.target), _pct(w.actual), _pct(w.drift)] for w in report.weights],
        ),
    ]
    if report.targets is not None:
        parts += [
            "<h2>Strategies</h2>",
            _table(
                ["strategy", "allocation", "weights"],
                [
                    [
                        c.strategy,
                        _pct(c.allocation),
                        ", ".join(f"{w.symbol} {_pct(w.weight)}" for w in c.weights),
                    ]
                    for c in report.targets.contributions
                ],
            ),
        ]
    if report.plan is not None:
        parts += [
            f"<h2>Plan</h2><p>portfolio {report.plan.portfolio_value:,.2f}, "
            f"reserve {report.plan.cash_reserve:,.2f}</p>",
            _table(
                ["side", "symbol", "price", "current", "target", "amount", "qty"],
                [
                    [
                        i.side.value,
                        i.symbol,
                        f"{i.price:,.2f}",
                        _pct(i.current_weight),
                        _pct(i.target_weight),
                        f"{i.trade_amount:,.2f}",
                        f"{i.quantity.normalize():f}",
                    ]
                    for i in report.plan.items
                ],
            ),
        ]
    for phase in (report.sells, report.buys):
        if phase is not None:
            parts.append(_phase(phase))
    if report.replay is not None:
        parts.append("<h2>Replay (simulated at the close; no order was sent)</h2>")
        parts.append(
            _table(
                ["side", "symbol", "qty", "close"],
                [
                    [f.side.value, f.symbol, f"{f.qty.normalize():f}", f"{f.price:,.2f}"]
                    for f in report.replay.fills
                ],
            )
        )
    parts.append("<h2>Artifacts</h2><ul>")
    parts += [f"<li>{escape(a.uri)}</li>" for a in report.artifacts]
    parts.append("</ul>")
    title = f"alchemiser {report.session} {report.outcome}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def _failures(report: RunReport) -> list[str]:
    parts = []
    if report.failures:
        parts.append("<h2 class='failed'>Failures</h2>")
        parts.append(
            _table(
                ["task", "kind", "try", "error"],
                [[f.task_id, f.kind, str(f.try_number or "-"), f.error] for f in report.failures],
            )
        )
    if report.orders is not None and report.orders.intents:
        o = report.orders
        parts.append(
            f"<p>Orders of this run: {o.placed} placed, {o.filled} filled, "
            f"{o.partially_filled} partly filled, {o.canceled} canceled, {o.rejected} rejected, "
            f"<b>{o.open} open</b>; traded {o.traded_value:,.2f}</p>"
        )
    if report.cleanup:
        parts.append(f"<p>Cleanup: {escape(report.cleanup)}</p>")
    if report.after is None:
        parts.append(f"<p class='failed'>Account not readable: {escape(report.after_error)}</p>")
    return parts


def _phase(phase: PhaseResult) -> str:
    rows = [
        [
            o.symbol,
            o.status.value,
            f"{o.filled_qty.normalize():f}",
            f"{o.filled_avg_price:,.4f}" if o.filled_avg_price else "-",
            o.client_order_id,
        ]
        for o in phase.orders
    ]
    header = f"<h2>{escape(phase.phase.capitalize())}: {escape(phase.status.value)}</h2>"
    return header + _table(["symbol", "status", "filled qty", "avg price", "client id"], rows)
