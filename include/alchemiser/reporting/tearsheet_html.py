"""A backtest's tearsheet as one HTML page, rendered from tearsheet.json (charts beside it)."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:960px}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
    ".neg{color:#c33}.pos{color:#282}img{display:block;margin:.5em 0 1em}"
    "details{margin:.2em 0}code{font-size:90%}"
)
_PERCENT = (
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "best_day",
    "worst_day",
    "best_month",
    "worst_month",
    "exposure",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_SWITCHES = 200


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _cell(value: float | None) -> str:
    if value is None:
        return "<td></td>"
    kind = "neg" if value < 0 else "pos"
    return f"<td class='{kind}'>{_pct(value)}</td>"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td>(none)</td></tr>'}</table>"


def _metric(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    if name in _PERCENT:
        return _pct(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}"


def _metrics(doc: dict[str, Any]) -> str:
    ours = doc["metrics"]
    theirs = doc.get("benchmark", {}).get("metrics", {})
    when = doc["metric_dates"]
    headers = ["metric", "backtest"] + ([doc["benchmark"]["symbol"]] if theirs else [])
    rows = []
    for name, value in ours.items():
        label = name.replace("_", " ")
        if when.get(name):
            label += f" ({when[name]})"
        if name == "max_drawdown":
            recovered = when["max_drawdown_recovered"]
            label += f" from {when['max_drawdown_peak']} to {when['max_drawdown_trough']}, "
            label += f"recovered {recovered}" if recovered else "not recovered"
        row = [label, _metric(name, value)]
        if theirs:
            row.append(_metric(name, theirs.get(name)))
        rows.append(row)
    return _table(headers, rows)


def _monthly(doc: dict[str, Any]) -> str:
    by_year: dict[str, dict[int, float]] = {}
    for key, value in doc["monthly_returns"].items():
        year, month = key.split("-")
        by_year.setdefault(year, {})[int(month)] = value
    head = "".join(f"<th>{h}</th>" for h in ("year", *_MONTHS, "year"))
    rows = []
    for year, months in by_year.items():
        total = 1.0
        for value in months.values():
            total *= 1 + value
        cells = "".join(_cell(months.get(i)) for i in range(1, 13))
        rows.append(f"<tr><td>{escape(year)}</td>{cells}{_cell(total - 1)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _switches(doc: dict[str, Any]) -> str:
    switches = doc["switches"]
    parts = [f"<p>{len(switches)} switches; the first {MAX_SWITCHES} are listed.</p>"]
    for s in switches[:MAX_SWITCHES]:
        before = ", ".join(s["before"]) or "-"
        after = ", ".join(s["after"])
        why = "<br>".join(f"<code>{escape(line)}</code>" for line in s["why"]) or "(no trace)"
        parts.append(
            f"<details><summary>{escape(s['date'])} {escape(s['strategy'])}: "
            f"{escape(before)} &rarr; {escape(after)}</summary>{why}</details>"
        )
    return "".join(parts)


def render_tearsheet(doc: dict[str, Any]) -> str:
    """Return the tearsheet page for a tearsheet.json document."""
    settings = doc["settings"]
    costs = doc["cost_model"]
    plan = settings["plan"]
    charts = doc["charts"]
    span = f"{doc['range']['from']} to {doc['range']['to']}"
    strategies = ", ".join(f"{k} {v * 100:.1f}%" for k, v in doc["strategies"].items())
    parts = [
        f"<h1>Backtest {escape(span)}</h1>",
        f"<p>strategies: {escape(strategies)}</p>",
        "<p>Assumptions: fills at each session's close; "
        f"slippage {escape(str(costs['slippage_bps']))} bps, commission "
        f"${escape(str(costs['commission']))} per order; initial cash "
        f"${float(settings['initial_cash']):,.0f}; cash reserve "
        f"{float(plan['cash_reserve_pct']) * 100:.2f}%, band "
        f"{float(plan['min_trade_pct']) * 100:.2f}% of the book (min "
        f"${escape(str(plan['min_trade_amount']))}), whole shares: "
        f"{escape(_whole(settings['whole_shares']))}. Decisions see only bars up to their "
        "session.</p>",
        "<h2>Metrics</h2>",
        _metrics(doc),
        f"<img alt='equity' src='{escape(charts['equity'])}'>",
        f"<img alt='drawdown' src='{escape(charts['drawdown'])}'>",
        "<h2>Monthly returns</h2>",
        _monthly(doc),
        "<h2>Allocation</h2>",
        f"<img alt='allocation' src='{escape(charts['allocation'])}'>",
        "<h2>Strategies</h2>",
        f"<img alt='attribution' src='{escape(charts['attribution'])}'>",
        "<h2>Sessions where a strategy switched holdings</h2>",
        _switches(doc),
    ]
    if doc["warnings"]:
        parts.append("<h2>Warnings (values substituted for short history)</h2>")
        parts.append(
            _table(
                ["first seen", "warning"],
                [[w["first_seen"], w["message"]] for w in doc["warnings"]],
            )
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>alchemiser backtest {escape(span)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )


def _whole(value: list[str] | None) -> str:
    if value is None:
        return "every symbol"
    return ", ".join(sorted(value)) or "none (fractional)"
