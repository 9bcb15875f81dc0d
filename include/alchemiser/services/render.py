"""The run report as blocks, and its two renderings: text (terminal, log) and an HTML page.

`report_blocks` is the one place that decides what a report says; `render_text` and
`render_html` only lay those blocks out, so the page carries everything the text carries.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.replay import ReplayResult
from alchemiser.domain.report import RunReport
from alchemiser.domain.types import bps_text
from alchemiser.reporting.document import Block, Chart, Gap, Heading, Line, table, to_html, to_text

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:80em}"
    "table{border-collapse:collapse;margin:.4em 0 1.2em;font-size:.92em}"
    "td,th{border:1px solid #ccc;padding:.2em .55em;text-align:right;white-space:nowrap}"
    "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
    "h1{font-size:1.35em}h2{font-size:1.1em;margin-top:1.4em}h3{font-size:1em}"
    "p{margin:.3em 0}code{font-size:.9em}"
    ".success,.replayed{color:#2a7}.failed,.halted{color:#c33}.partial{color:#c80}"
)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def render_text(report: RunReport, location: str) -> str:
    """Return the report as aligned text sections; `location` is where its JSON form lives."""
    return "\n".join(to_text(report_blocks(report, location, chart=""))) + "\n"


def render_html(report: RunReport, location: str, chart: str) -> str:
    """Return the report as one page; `chart` is the weights PNG's address ("" for none)."""
    title = f"alchemiser {report.session} {report.outcome}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{PAGE_STYLE}</style></head><body>"
        f"{to_html(report_blocks(report, location, chart))}</body></html>"
    )


def report_blocks(report: RunReport, location: str, chart: str) -> list[Block]:
    """Return everything the report says, in order; `chart` is the weights chart's address."""
    blocks: list[Block] = [
        Heading(
            f"alchemiser run report: venue {report.venue}{_money_kind(report)}, session "
            f"{report.session}, outcome {report.outcome.upper()}",
            level=1,
            tone=report.outcome,
        ),
        Line(f"run {report.run_id} | session from {report.session_source}"),
        *([Line(report.note, tone="note")] if report.note else []),
    ]
    blocks += _failure_blocks(report)
    if report.targets is not None:
        blocks += [Gap(), Heading("Targets"), _target_table(report.targets)]
        blocks += [Gap(), *strategy_blocks(report.targets)]
    plan = report.plan
    if plan is not None:
        blocks += [
            Gap(),
            Heading(
                f"Plan: portfolio {_money(plan.portfolio_value)}, reserve "
                f"{_money(plan.cash_reserve)}, {len(plan.sells)} sells, {len(plan.buys)} buys"
            ),
            table(
                ["side", "symbol", "price", "current", "target", "amount", "qty"],
                [
                    [
                        i.side.value,
                        i.symbol,
                        _money(i.price),
                        _pct(i.current_weight),
                        _pct(i.target_weight),
                        _money(i.trade_amount),
                        f"{i.quantity.normalize():f}",
                    ]
                    for i in plan.items
                ],
            ),
        ]
        if plan.held:
            blocks += [
                Gap(),
                Heading(
                    "Held this session (not traded; the rest was rebalanced without them):",
                    level=3,
                ),
                table(
                    ["symbol", "kept qty", "value", "target", "reason"],
                    [
                        [
                            h.symbol,
                            f"{h.qty.normalize():f}",
                            _money(h.value),
                            _pct(h.target_weight),
                            h.detail,
                        ]
                        for h in plan.held
                    ],
                ),
            ]
    for phase in (report.sells, report.buys):
        if phase is not None:
            blocks += [Gap(), *_phase_blocks(phase)]
    if report.replay is not None:
        blocks += [Gap(), *_replay_blocks(report.replay)]
    blocks += [Gap(), *_after_blocks(report, chart)]
    blocks += [Gap(), Heading("Artifacts"), Line(f"  {location} (this report)")]
    blocks += [Line(f"  {a.uri}") for a in report.artifacts]
    return blocks


def _money_kind(report: RunReport) -> str:
    return {True: " (LIVE)", False: " (paper)", None: ""}[report.live]


def _target_table(targets: TargetAllocation) -> Block:
    return table(
        ["symbol", "target", *(c.strategy for c in targets.contributions)],
        [
            [w.symbol, _pct(w.weight)]
            + [
                _pct(next((x.weight for x in c.weights if x.symbol == w.symbol), Decimal(0)))
                for c in targets.contributions
            ]
            for w in targets.weights
        ],
    )


def _failure_blocks(report: RunReport) -> list[Block]:
    """What went wrong, what the run's orders came to, what the teardown canceled."""
    blocks: list[Block] = []
    if report.failures:
        blocks += [Gap(), Heading("Failures", tone="failed")]
        blocks.append(
            table(
                ["task", "kind", "try", "error"],
                [
                    [f.task_id, f.kind, str(f.try_number or "-"), f.error[:160]]
                    for f in report.failures
                ],
            )
        )
    if report.orders is not None and report.orders.intents:
        o = report.orders
        blocks += [
            Gap(),
            Line(
                f"Orders of this run: {o.placed} placed ({o.intents} intent"
                f"{'' if o.intents == 1 else 's'}): {o.filled} "
                f"filled, {o.replaced} re-priced by the walk's next step, "
                f"{o.partially_filled} partly filled, {o.canceled} canceled, "
                f"{o.rejected} rejected, {o.open} open"
                f"{f', {o.unconfirmed} unconfirmed' if o.unconfirmed else ''}; "
                f"traded {_money(o.traded_value)}",
                tone="failed" if o.open or o.unconfirmed else "",
            ),
        ]
    if report.cleanup:
        blocks.append(Line(f"Cleanup: {report.cleanup}"))
    return blocks


def _after_blocks(report: RunReport, chart: str) -> list[Block]:
    after = report.after
    if after is None:
        return [
            Heading(f"After: the account could not be read ({report.after_error})", tone="failed")
        ]
    blocks: list[Block] = [
        Heading(f"After: portfolio {_money(after.portfolio_value)}, cash {_money(after.cash)}")
    ]
    if chart and report.weights:
        blocks.append(Chart(src=chart, alt="target versus actual weights"))
    if not report.weights:
        return [
            *blocks,
            table(
                ["symbol", "qty", "value"],
                [
                    [h.symbol, f"{h.qty.normalize():f}", _money(h.market_value)]
                    for h in after.holdings
                ],
            ),
        ]
    return [
        *blocks,
        table(
            ["symbol", "qty", "value", "target", "actual", "drift"],
            [
                [
                    w.symbol,
                    f"{h.qty.normalize():f}" if (h := after.holding(w.symbol)) else "0",
                    _money(h.market_value) if h else "0.00",
                    _pct(w.target),
                    _pct(w.actual),
                    _pct(w.drift),
                ]
                for w in report.weights
            ],
        ),
    ]


def _phase_blocks(phase: PhaseResult) -> list[Block]:
    header = Heading(
        f"{phase.phase.capitalize()}: {phase.status.value}"
        + (f", budget {_money(phase.budget)}" if phase.budget is not None else "")
        + (
            f", scaled to {_pct(phase.scale)}"
            if phase.scale is not None and phase.scale < 1
            else ""
        )
        + (f", unbought {_money(phase.unbought)}" if phase.unbought else ""),
        tone=phase.status.value,
    )
    if phase.walks:
        return [header, _walk_table(phase)]
    return [
        header,
        table(
            ["symbol", "status", "filled qty", "avg price", "value", "client order id"],
            [
                [
                    o.symbol,
                    o.status.value,
                    f"{o.filled_qty.normalize():f}",
                    _money(o.filled_avg_price) if o.filled_avg_price else "-",
                    _money(o.filled_value),
                    o.client_order_id,
                ]
                for o in phase.orders
            ],
        ),
    ]


def _walk_table(phase: PhaseResult) -> Block:
    """Fills summed over each walk's steps, with execution quality."""
    return table(
        [
            "symbol",
            "outcome",
            "filled qty",
            "avg price",
            "value",
            "arrival mid",
            "slip bps",
            "secs",
            "steps",
            "last client order id",
        ],
        [
            [
                w.symbol,
                w.outcome.value,
                f"{w.filled_qty.normalize():f}",
                _money(w.avg_fill_price) if w.avg_fill_price else "-",
                _money(w.filled_value),
                _money(w.arrival_mid) if w.arrival_mid else "-",
                bps_text(w.slippage_bps) if w.slippage_bps is not None else "-",
                f"{w.time_to_fill_seconds:.1f}" if w.time_to_fill_seconds is not None else "-",
                f"{w.steps}{'+mkt' if w.ended_with_market else ''}",
                w.client_order_ids[-1] if w.client_order_ids else "-",
            ]
            for w in phase.walks
        ],
    )


def _replay_blocks(replay: ReplayResult) -> list[Block]:
    return [
        Heading(
            f"Replay: book {_money(replay.before.value)} -> {_money(replay.after.value)} "
            "(fills simulated at the close; no order was sent)"
        ),
        table(
            ["side", "symbol", "qty", "close", "value"],
            [
                [f.side.value, f.symbol, f"{f.qty.normalize():f}", _money(f.price), _money(f.value)]
                for f in replay.fills
            ],
        ),
    ]


MAX_TRACE_LINES = 40
"""A deep symphony's trace is cut here in the report; the JSON keeps every step."""


def strategy_lines(targets: TargetAllocation) -> list[str]:
    """Return each strategy's allocation, its own weights and why it chose them, as text."""
    return to_text(strategy_blocks(targets))


def strategy_blocks(targets: TargetAllocation) -> list[Block]:
    """Return each strategy's allocation, its own weights and why it chose them."""
    blocks: list[Block] = [
        Heading("Strategies"),
        table(
            ["strategy", "kind", "allocation", "weights"],
            [
                [
                    c.strategy,
                    c.kind,
                    _pct(c.allocation),
                    ", ".join(f"{w.symbol} {_pct(w.weight)}" for w in c.weights),
                ]
                for c in targets.contributions
            ],
        ),
    ]
    for c in targets.contributions:
        if not c.trace and not c.warnings:
            continue
        held = ", ".join(w.symbol for w in c.weights)
        blocks += [Gap(), Heading(f"Why {c.strategy} holds {held}:", level=3)]
        blocks += [
            Line(f"  {step.where}  {step.what}", code=True) for step in c.trace[:MAX_TRACE_LINES]
        ]
        if len(c.trace) > MAX_TRACE_LINES:
            blocks.append(Line(f"  ... {len(c.trace) - MAX_TRACE_LINES} more steps in report.json"))
        blocks += [Line(f"  warning: {w}", tone="partial") for w in c.warnings]
    return blocks
