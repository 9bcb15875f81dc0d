"""The console's pages: the portfolio, a session's ledger and a run's report, as plain HTML.

Everything comes from what runs wrote (the run history, reports, ledger entries, the replay
equity curve); no page calls a broker. `base` is where the console is mounted, for links.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from html import escape
from urllib.parse import quote

from alchemiser.console.svg import paired_bars, series_chart
from alchemiser.domain.errors import ArtifactNotFoundError
from alchemiser.domain.history import RunSummary
from alchemiser.domain.keys import EQUITY_CURVE, orders_prefix
from alchemiser.domain.replay import REPLAY_ACCOUNT, EquityCurve
from alchemiser.domain.report import RunReport
from alchemiser.domain.types import bps_text
from alchemiser.ledger.entry import LedgerEntry
from alchemiser.ports import ObjectStore
from alchemiser.reporting.document import Table, html_table, table, to_html
from alchemiser.services.history import load_history
from alchemiser.services.render import PAGE_STYLE, report_blocks

RECENT_RUNS = 30
_READERS = 8
_NAV_STYLE = (
    "nav a{margin-right:1em}.empty{color:#777}svg.chart{display:block;margin:.4em 0}"
    "td.note{white-space:normal;text-align:left;min-width:16em;max-width:28em}"
)


class RunNotFoundError(ArtifactNotFoundError):
    """No report was written for a run id."""


def mask(account_id: str) -> str:
    """Return an account number with all but its last four characters hidden."""
    return f"…{account_id[-4:]}" if len(account_id) > 4 else account_id


def run_href(base: str, run_id: str) -> str:
    """Return the address of a run's report view (run ids hold ':' and '+')."""
    return escape(f"{base}/runs/{quote(run_id, safe='')}")


def page(title: str, body: str, base: str) -> str:
    """Return a complete console page."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{PAGE_STYLE}{_NAV_STYLE}</style></head><body>"
        f"<nav><a href='{base}/'>Portfolio</a><a href='{base}/ledger'>Ledger</a>"
        f"<a href='{base}/backtests'>Backtests</a></nav>"
        f"{body}</body></html>"
    )


def portfolio_page(store: ObjectStore, base: str) -> str:
    """Return positions versus targets as of the last run, recent runs and the charts."""
    runs = load_history(store).runs
    parts = ["<h1>Portfolio</h1>"]
    # A backfill's replayed sessions hold a simulated book: the positions are the account's.
    traded = [r for r in runs if not r.replayed]
    latest = next((r for r in reversed(traded) if r.portfolio_value is not None), None)
    if not runs:
        parts.append("<p class='empty'>No run has written a report yet.</p>")
    elif not traded:
        parts.append(
            "<p class='empty'>Only replayed sessions so far (a backfill's simulated book): "
            "no run has read the account yet.</p>"
        )
    elif traded[-1].portfolio_value is None:
        # The last run could not read the account: say so above the last positions known.
        parts += _positions(RunReport.model_validate_json(store.get(traded[-1].report_key)), base)
    if latest is not None:
        parts += _positions(RunReport.model_validate_json(store.get(latest.report_key)), base)
    parts += ["<h2>Recent runs</h2>", _runs_table(runs[-RECENT_RUNS:][::-1], base)]
    quality = sorted(  # by session: the history is in the order reports were written
        (r.session.isoformat(), float(r.slippage_bps)) for r in runs if r.slippage_bps is not None
    )
    parts += [
        "<h2>Execution quality</h2>",
        series_chart(quality, "slippage per run, bps (positive = cost)", " bps"),
    ]
    parts += ["<h2>Replay equity</h2>", *_equity(store)]
    return page("alchemiser portfolio", "".join(parts), base)


def _positions(report: RunReport, base: str) -> list[str]:
    after = report.after
    if after is None:
        return [
            f"<p class='failed'>The last run, <a href='{run_href(base, report.run_id)}'>"
            f"{escape(report.run_id)}</a> (session {report.session}, {escape(report.outcome)}), "
            f"could not read the account: {escape(report.after_error)}</p>"
        ]
    head = (
        f"<p>As of run <a href='{run_href(base, report.run_id)}'>{escape(report.run_id)}</a>"
        f" (session {report.session}, {escape(report.outcome)}) &middot; account "
        f"{escape(mask(after.account_id))} &middot; portfolio <b class='value'>"
        f"{after.portfolio_value:,.2f}</b> &middot; cash {after.cash:,.2f}</p>"
    )
    weights = {w.symbol: w for w in report.weights}
    symbols = sorted({*weights, *(h.symbol for h in after.holdings)})
    rows = []
    for s in symbols:
        h, w = after.holding(s), weights.get(s)
        rows.append(
            [
                s,
                f"{h.qty.normalize():f}" if h else "0",
                f"{h.market_value:,.2f}" if h else "0.00",
                f"{w.target * 100:.2f}%" if w else "-",
                f"{w.actual * 100:.2f}%" if w else "-",
                f"{w.drift * 100:+.2f}%" if w else "-",
            ]
        )
    bars = paired_bars(
        [(w.symbol, float(w.target), float(w.actual)) for w in report.weights], "weights"
    )
    positions = table(["symbol", "qty", "value", "target", "actual", "drift"], rows)
    return ["<h2>Positions versus targets</h2>", head, html_table(positions), bars]


def _runs_table(runs: Sequence[RunSummary], base: str) -> str:
    head = ["session", "run", "outcome", "traded", "slip bps", "orders", "portfolio", "note"]
    body = "".join(
        "<tr>"
        f"<td><a href='{base}/ledger?session={r.session}'>{r.session}</a></td>"
        f"<td><a href='{run_href(base, r.run_id)}'>{escape(r.run_id)}</a></td>"
        f"<td class='{escape(r.outcome)}'>{escape(r.outcome)}</td>"
        f"<td>{r.traded_value:,.2f}</td>"
        f"<td>{'-' if r.slippage_bps is None else bps_text(r.slippage_bps)}</td>"
        f"<td>{r.orders_placed}</td>"
        f"<td>{'-' if r.portfolio_value is None else f'{r.portfolio_value:,.2f}'}</td>"
        f"<td class='note'>{escape(r.note[:90])}</td></tr>"
        for r in runs
    )
    empty = f"<tr><td colspan='{len(head)}'>(none)</td></tr>"
    return (
        "<table class='runs'><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr>{body or empty}</table>"
    )


def _equity(store: ObjectStore) -> list[str]:
    try:
        curve = EquityCurve.model_validate_json(store.get(EQUITY_CURVE)).points
    except ArtifactNotFoundError:
        curve = ()
    values = [(p.session.isoformat(), float(p.value)) for p in curve]
    peak, drawdown = 0.0, []
    for label, value in values:
        peak = max(peak, value)
        drawdown.append((label, (value / peak - 1) * 100 if peak else 0.0))
    summary = (
        f"<p>{len(values)} replayed sessions &middot; last value {values[-1][1]:,.2f} &middot; "
        f"max drawdown {min(d for _, d in drawdown):.2f}%</p>"
        if values
        else ""
    )
    return [
        summary,
        series_chart(values, "replayed book value", ""),
        series_chart(drawdown, "drawdown, %", "%", fill=True),
    ]


def ledger_page(store: ObjectStore, session: date | None, base: str) -> str:
    """Return a session's ledger: every intent, what was sent, filled and canceled."""
    runs = load_history(store).runs
    sessions = sorted({r.session for r in runs}, reverse=True)
    session = session or (sessions[0] if sessions else None)
    picker = " ".join(
        f"<a href='{base}/ledger?session={s}'>{'<b>' if s == session else ''}{s}"
        f"{'</b>' if s == session else ''}</a>"
        for s in sessions[:20]
    )
    parts = ["<h1>Ledger</h1>", f"<p>sessions: {picker or '(none)'}</p>"]
    ran = [r for r in runs if r.session == session]
    accounts = sorted({r.account_id for r in ran if r.account_id not in {"", REPLAY_ACCOUNT}})
    for account in accounts:
        entries = _entries(store, account, session) if session else []
        parts.append(f"<h2>{session}, account {escape(mask(account))}</h2>")
        parts.append(html_table(_ledger_table(entries)))
    if any(r.replayed for r in ran):
        parts.append(
            f"<p class='empty'>{session} was replayed (simulated fills at the close): "
            "a replay sends no order and writes no ledger entry.</p>"
        )
    elif session is not None and not accounts:
        parts.append(f"<p class='empty'>No traded account recorded for {session}.</p>")
    return page(f"alchemiser ledger {session}", "".join(parts), base)


def _entries(store: ObjectStore, account: str, session: date) -> list[LedgerEntry]:
    keys = store.list_keys(orders_prefix(account, session))
    with ThreadPoolExecutor(_READERS) as pool:
        bodies = list(pool.map(store.get, keys))
    return [LedgerEntry.model_validate_json(b) for b in bodies]


def _ledger_table(entries: list[LedgerEntry]) -> Table:
    rows = [
        [
            e.client_order_id,
            e.intent.side.value,
            e.intent.symbol,
            f"{e.intent.qty.normalize():f}" if e.intent.qty else f"${e.intent.notional}",
            f"{e.intent.limit_price}" if e.intent.limit_price else e.intent.order_type,
            e.state.value,
            e.status.value if e.status else "-",
            f"{e.filled_qty.normalize():f}",
            f"{e.filled_avg_price:,.4f}" if e.filled_avg_price else "-",
            e.task.run_id,
        ]
        for e in sorted(entries, key=lambda e: (e.task.run_id, e.client_order_id))
    ]
    return table(
        [
            "client order id",
            "side",
            "symbol",
            "qty",
            "limit",
            "state",
            "status",
            "filled",
            "avg price",
            "run",
        ],
        rows,
    )


def _summary(store: ObjectStore, run_id: str) -> RunSummary:
    for r in reversed(load_history(store).runs):
        if r.run_id == run_id:
            return r
    raise RunNotFoundError(f"no report for run {run_id!r} in the run history")


def report_page(store: ObjectStore, run_id: str, base: str) -> str:
    """Return a run's report (the same blocks as report.txt) with its weights chart."""
    key = _summary(store, run_id).report_key
    report = RunReport.model_validate_json(store.get(key))
    chart = f"{run_href(base, run_id)}/weights.svg" if report.weights else ""
    blocks = report_blocks(report, f"{store.bucket}/{key}", chart)
    return page(f"alchemiser {run_id}", to_html(blocks), base)


def report_chart(store: ObjectStore, run_id: str) -> str:
    """Return a run's target versus actual weights as SVG."""
    report = RunReport.model_validate_json(store.get(_summary(store, run_id).report_key))
    return paired_bars(
        [(w.symbol, float(w.target), float(w.actual)) for w in report.weights],
        "target versus actual weights",
    )
