"""Render a RunReport as a plain-text page a person reads in a terminal or a log."""

from __future__ import annotations

from decimal import Decimal

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.orders import PhaseResult
from alchemiser.domain.replay import ReplayResult
from alchemiser.domain.report import RunReport


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    if not rows:
        return [*out, "(none)"]
    out += [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    return out


def render_text(report: RunReport, location: str) -> str:
    """Return the report as aligned text sections; `location` is where its JSON form lives."""
    lines = [
        f"alchemiser run report: venue {report.venue}{_money_kind(report)}, session "
        f"{report.session}, outcome {report.outcome.upper()}",
        f"run {report.run_id} | session from {report.session_source}",
        *([report.note] if report.note else []),
    ]
    lines += _failure_lines(report)
    if report.targets is not None:
        lines += ["", "Targets", *_target_table(report.targets)]
        lines += ["", *strategy_lines(report.targets)]
    plan = report.plan
    if plan is not None:
        lines += [
            "",
            f"Plan: portfolio {_money(plan.portfolio_value)}, reserve "
            f"{_money(plan.cash_reserve)}, {len(plan.sells)} sells, {len(plan.buys)} buys",
        ]
        lines += _table(
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
        )
        if plan.held:
            lines += ["", "Held this session (not traded; the rest was rebalanced without them):"]
            lines += _table(
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
            )
    for phase in (report.sells, report.buys):
        if phase is not None:
            lines += ["", *_phase_lines(phase)]
    if report.replay is not None:
        lines += ["", *_replay_lines(report.replay)]
    lines += ["", *_after_lines(report)]
    lines += ["", "Artifacts", f"  {location} (this report)"]
    lines += [f"  {a.uri}" for a in report.artifacts]
    return "\n".join(lines) + "\n"


def _money_kind(report: RunReport) -> str:
    return {True: " (LIVE)", False: " (paper)", None: ""}[report.live]


def _target_table(targets: TargetAllocation) -> list[str]:
    return _table(
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


def _failure_lines(report: RunReport) -> list[str]:
    """What went wrong, what the run's orders came to, what the teardown canceled."""
    lines: list[str] = []
    if report.failures:
        lines += ["", "Failures"]
        lines += _table(
            ["task", "kind", "try", "error"],
            [[f.task_id, f.kind, str(f.try_number or "-"), f.error[:160]] for f in report.failures],
        )
    if report.orders is not None and report.orders.intents:
        o = report.orders
        lines += [
            "",
            f"Orders of this run: {o.placed} placed ({o.intents} intents), {o.filled} filled, "
            f"{o.partially_filled} partly filled, {o.canceled} canceled, {o.rejected} rejected, "
            f"{o.open} open; traded {_money(o.traded_value)}",
        ]
    if report.cleanup:
        lines.append(f"Cleanup: {report.cleanup}")
    return lines


def _after_lines(report: RunReport) -> list[str]:
    after = report.after
    if after is None:
        return [f"After: the account could not be read ({report.after_error})"]
    lines = [f"After: portfolio {_money(after.portfolio_value)}, cash {_money(after.cash)}"]
    if not report.weights:
        return lines + _table(
            ["symbol", "qty", "value"],
            [[h.symbol, f"{h.qty.normalize():f}", _money(h.market_value)] for h in after.holdings],
        )
    return lines + _table(
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
    )


def _phase_lines(phase: PhaseResult) -> list[str]:
    lines = [
        f"{phase.phase.capitalize()}: {phase.status.value}"
        + (f", budget {_money(phase.budget)}" if phase.budget is not None else "")
        + (
            f", scaled to {_pct(phase.scale)}"
            if phase.scale is not None and phase.scale < 1
            else ""
        )
        + (f", unbought {_money(phase.unbought)}" if phase.unbought else "")
    ]
    if phase.walks:
        return lines + _walk_table(phase)
    lines += _table(
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
    )
    return lines


def _walk_table(phase: PhaseResult) -> list[str]:
    """Fills summed over each walk's steps, with execution quality."""
    return _table(
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
                f"{w.slippage_bps:.1f}" if w.slippage_bps is not None else "-",
                f"{w.time_to_fill_seconds:.1f}" if w.time_to_fill_seconds is not None else "-",
                f"{w.steps}{'+mkt' if w.ended_with_market else ''}",
                w.client_order_ids[-1] if w.client_order_ids else "-",
            ]
            for w in phase.walks
        ],
    )


def _replay_lines(replay: ReplayResult) -> list[str]:
    lines = [
        f"Replay: book {_money(replay.before.value)} -> {_money(replay.after.value)} "
        "(fills simulated at the close; no order was sent)"
    ]
    lines += _table(
        ["side", "symbol", "qty", "close", "value"],
        [
            [f.side.value, f.symbol, f"{f.qty.normalize():f}", _money(f.price), _money(f.value)]
            for f in replay.fills
        ],
    )
    return lines


MAX_TRACE_LINES = 40
"""A deep symphony's trace is cut here in the text report; the JSON keeps every step."""


def strategy_lines(targets: TargetAllocation) -> list[str]:
    """Return each strategy's allocation, its own weights and why it chose them."""
    lines = ["Strategies"]
    lines += _table(
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
    )
    for c in targets.contributions:
        if not c.trace and not c.warnings:
            continue
        held = ", ".join(w.symbol for w in c.weights)
        lines += ["", f"Why {c.strategy} holds {held}:"]
        lines += [f"  {step.where}  {step.what}" for step in c.trace[:MAX_TRACE_LINES]]
        if len(c.trace) > MAX_TRACE_LINES:
            lines.append(f"  ... {len(c.trace) - MAX_TRACE_LINES} more steps in report.json")
        lines += [f"  warning: {w}" for w in c.warnings]
    return lines
