"""The tearsheet: a backtest's metrics, curves and decisions as JSON, PNG charts and HTML.

`tearsheet.json` is the contract scripts read (see docs/backtest.md): `metrics` are plain
numbers, `equity` is `[[date, value], ...]` for every session, `targets` is
`{date: {symbol: weight}}` for every session (merged targets, before the rebalance band).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alchemiser.backtest import metrics as m
from alchemiser.backtest.engine import BacktestResult
from alchemiser.reporting.plot import PALETTE, Line, line_chart, stacked_chart
from alchemiser.reporting.tearsheet_html import render_tearsheet

SCHEMA_VERSION = 1
CHARTS = ("equity", "drawdown", "allocation", "attribution")
MAX_LAYERS = 8


def _num(value: float) -> float:
    return round(float(value), 10)


def _series_metrics(initial: float, dates: list[Any], values: list[float]) -> dict[str, Any]:
    returns = m.daily_returns(initial, values)
    dd = m.max_drawdown(initial, dates, values)
    growth = m.cagr(initial, values)
    months = m.monthly_returns(initial, dates, values)
    best, worst = int(returns.argmax()), int(returns.argmin())
    best_month = max(months, key=lambda k: months[k])
    worst_month = min(months, key=lambda k: months[k])
    numbers = {
        "total_return": m.total_return(initial, values),
        "cagr": growth,
        "volatility": m.volatility(returns),
        "sharpe": m.sharpe(returns),
        "sortino": m.sortino(returns),
        "max_drawdown": dd.depth,
        "calmar": m.calmar(growth, dd.depth),
        "best_day": float(returns[best]),
        "worst_day": float(returns[worst]),
        "best_month": months[best_month],
        "worst_month": months[worst_month],
    }
    when = {
        "max_drawdown_peak": dd.peak.isoformat(),
        "max_drawdown_trough": dd.trough.isoformat(),
        "max_drawdown_recovered": dd.recovered.isoformat() if dd.recovered else None,
        "best_day": dates[best].isoformat(),
        "worst_day": dates[worst].isoformat(),
        "best_month": best_month,
        "worst_month": worst_month,
    }
    return {"metrics": {k: _num(v) for k, v in numbers.items()}, "dates": when, "months": months}


def build_tearsheet(result: BacktestResult) -> dict[str, Any]:
    """Return the tearsheet document of a finished backtest."""
    records = result.sessions
    dates = [r.session for r in records]
    values = [float(r.value) for r in records]
    initial = float(result.settings.initial_cash)
    core = _series_metrics(initial, dates, values)
    numbers = core["metrics"]
    numbers["turnover"] = _num(m.turnover([float(r.traded) for r in records], values))
    numbers["trades"] = len(result.trades)
    numbers["exposure"] = _num(m.exposure([float(r.value - r.cash) for r in records], values))
    numbers["sessions"] = len(records)
    numbers["final_value"] = round(values[-1], 2)
    numbers["costs"] = round(
        float(sum(abs(t.price - t.close) * t.qty + t.commission for t in result.trades)), 2
    )
    settings = result.settings
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "range": {"from": dates[0].isoformat(), "to": dates[-1].isoformat()},
        "strategies": {name: float(a) for name, a in result.allocations.items()},
        "settings": json.loads(settings.model_dump_json()),
        "cost_model": json.loads(settings.costs.model_dump_json()),
        "metrics": numbers,
        "metric_dates": core["dates"],
        "monthly_returns": {k: _num(v) for k, v in core["months"].items()},
        "equity": [[d.isoformat(), round(v, 2)] for d, v in zip(dates, values, strict=True)],
        "drawdown": [
            [d.isoformat(), _num(v)]
            for d, v in zip(dates, m.drawdown_curve(initial, values), strict=True)
        ],
        "targets": {
            r.session.isoformat(): {s: float(w) for s, w in r.targets.items()} for r in records
        },
        "holdings": {
            r.session.isoformat(): {s: round(float(w), 6) for s, w in r.held.items()}
            for r in records
        },
        "attribution": {
            name: [[r.session.isoformat(), round(r.strategies[name], 2)] for r in records]
            for name in result.allocations
        },
        "trades": [
            {
                "date": t.session.isoformat(),
                "symbol": t.symbol,
                "side": t.side.value,
                "qty": str(t.qty.normalize()),
                "price": str(t.price),
                "close": str(t.close),
                "commission": str(t.commission),
            }
            for t in result.trades
        ],
        "switches": [
            {
                "date": s.session.isoformat(),
                "strategy": s.strategy,
                "before": list(s.before),
                "after": list(s.after),
                "why": list(s.why),
            }
            for s in result.switches
        ],
        "warnings": [
            {"first_seen": day.isoformat(), "message": text}
            for text, day in result.warnings.items()
        ],
        "charts": {name: f"{name}.png" for name in CHARTS},
    }
    if result.benchmark is not None and settings.benchmark is not None:
        bench = _series_metrics(initial, dates, result.benchmark)
        doc["benchmark"] = {
            "symbol": settings.benchmark,
            "metrics": bench["metrics"],
            "equity": [
                [d.isoformat(), round(v, 2)] for d, v in zip(dates, result.benchmark, strict=True)
            ],
        }
    return doc


def _charts(doc: dict[str, Any], result: BacktestResult) -> dict[str, bytes]:
    records = result.sessions
    dates = [r.session for r in records]
    lines = [Line("backtest", [v for _, v in doc["equity"]], PALETTE[0])]
    if "benchmark" in doc:
        bench = doc["benchmark"]
        lines.append(Line(bench["symbol"], [v for _, v in bench["equity"]], PALETTE[7]))
    mean: dict[str, float] = {}
    for r in records:
        for s, w in r.held.items():
            mean[s] = mean.get(s, 0.0) + float(w)
    top = sorted(mean, key=lambda s: -mean[s])[:MAX_LAYERS]
    layers = [
        Line(s, [float(r.held.get(s, 0)) for r in records], PALETTE[i % len(PALETTE)])
        for i, s in enumerate(top)
    ]
    rest = [float(sum(w for s, w in r.held.items() if s not in top)) for r in records]
    if any(rest):
        layers.append(Line("other", rest, (180, 180, 180)))
    layers.append(Line("cash", [float(r.cash / r.value) for r in records], (235, 235, 235)))
    strategies = [
        Line(name, [r.strategies[name] for r in records], PALETTE[(i + 1) % len(PALETTE)])
        for i, name in enumerate(result.allocations)
    ]
    return {
        "equity": line_chart("Equity (log scale)", dates, lines, log=True),
        "drawdown": line_chart(
            "Drawdown",
            dates,
            [Line("drawdown", [v for _, v in doc["drawdown"]], (200, 40, 40))],
            percent=True,
            fill=True,
        ),
        "allocation": stacked_chart("Holdings over time (share of the book)", dates, layers),
        "attribution": line_chart(
            "Each strategy's own slice (log scale, before costs)", dates, strategies, log=True
        ),
    }


def tearsheet_files(result: BacktestResult) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Return the tearsheet document and its files by name: the JSON, the HTML, the charts."""
    doc = build_tearsheet(result)
    files = {f"{name}.png": png for name, png in _charts(doc, result).items()}
    files["tearsheet.json"] = (json.dumps(doc, indent=1) + "\n").encode()
    files["tearsheet.html"] = render_tearsheet(doc).encode()
    return doc, files


def write_tearsheet(result: BacktestResult, out: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Write tearsheet.json, the PNG charts and tearsheet.html into `out`; return them."""
    out.mkdir(parents=True, exist_ok=True)
    doc, files = tearsheet_files(result)
    for name, body in files.items():
        (out / name).write_bytes(body)
    return doc, files
