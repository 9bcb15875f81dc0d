"""The console's backtests: the list of published ones and each one's tearsheet as published.

A tearsheet is served at `{base}/backtests/NAME/` (the trailing slash matters): its page links
its charts by bare file name, which the browser then resolves below the same folder, whatever
prefix the console is mounted under.
"""

from __future__ import annotations

from datetime import UTC
from html import escape
from urllib.parse import quote

from alchemiser.console.pages import page
from alchemiser.domain.backtests import TEARSHEET_HTML, PublishedBacktest
from alchemiser.ports import ObjectStore
from alchemiser.services.backtests import list_backtests, read_backtest_file

TEARSHEET_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
"""The tearsheet is stored content: it may show images beside it and its own style, run nothing."""

_HEAD = ["backtest", "range", "sessions", "total return", "benchmark", "Sharpe", "max drawdown"]


def tearsheet_href(base: str, name: str) -> str:
    """Return the address of a published backtest's tearsheet (a folder: charts sit beside it)."""
    return escape(f"{base}/backtests/{quote(name, safe='')}/")


def backtests_page(store: ObjectStore, base: str) -> str:
    """Return the list of published backtests, the most recently published first."""
    catalog = list_backtests(store)
    rows = "".join(_row(b, base) for b in catalog.published)
    empty = f"<tr><td colspan='{len(_HEAD) + 1}' class='empty'>(none)</td></tr>"
    parts = [
        "<h1>Backtests</h1>",
        "<p>Publish one with <code>python -m alchemiser backtest ... --out DIR "
        "--publish NAME</code> (docs/backtest.md).</p>",
        "<table class='backtests'><tr>",
        "".join(f"<th>{h}</th>" for h in (*_HEAD, "published (UTC)")),
        f"</tr>{rows or empty}</table>",
    ]
    if catalog.unreadable:
        keys = ", ".join(escape(k) for k in catalog.unreadable)
        parts.append(f"<p class='failed'>Not a backtest summary: {keys}</p>")
    return page("alchemiser backtests", "".join(parts), base)


def _row(b: PublishedBacktest, base: str) -> str:
    bench = "-" if b.benchmark is None else escape(b.benchmark)
    if b.benchmark_return is not None:
        bench += f" {b.benchmark_return:.2%}"
    cells = [
        f"<a href='{tearsheet_href(base, b.name)}'>{escape(b.name)}</a>",
        f"{b.first} to {b.last}",
        f"{b.sessions}",
        f"{b.total_return:.2%}",
        bench,
        f"{b.sharpe:.2f}",
        f"{b.max_drawdown:.2%}",
        f"{b.published_at.astimezone(UTC):%Y-%m-%d %H:%M}",
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def tearsheet_page(store: ObjectStore, name: str, base: str) -> str:
    """Return a published tearsheet as published, with the console's navigation on top."""
    html = read_backtest_file(store, name, TEARSHEET_HTML).decode()
    nav = (
        "<nav style='margin-bottom:1em'>"
        f"<a href='{base}/backtests'>&larr; Backtests</a> &middot; "
        f"<a href='{base}/'>Portfolio</a></nav>"
    )
    return html.replace("<body>", f"<body>{nav}", 1)
